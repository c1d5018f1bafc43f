import { type Context, Effect, type Exit, Scope } from "effect"

/**
 * Runs `finalizer` when the enclosing scope closes, like `Effect.addFinalizer`, but without
 * putting back the fiber's references as they were when it was added. That restore diffs
 * and patches the fiber's whole context (every service of the app, ~100) twice per finalizer:
 * a call's five finalizers were a sixth of what a call set-up allocates (bench/RESULTS.md,
 * "Where a call's allocations go"). A call's finalizers only close sockets, clear timers and
 * write the record: they run with the services captured here and the fiber's log annotations
 * and span at close, which `Effect.scoped` inside the call's `annotateLogs`/`withSpan` keeps.
 */
export const onScopeClose = <X, R>(finalizer: (exit: Exit.Exit<unknown, unknown>) => Effect.Effect<X, never, R>) =>
  Effect.flatMap(Effect.context<R>(), (services) =>
    Effect.flatMap(Effect.scope, (scope) =>
      // The captured context replaces the closing fiber's (`Effect.provide` would merge the two:
      // two copies of every service per finalizer); it is that fiber's own context when added.
      Scope.addFinalizerExit(scope, (exit) => Effect.mapInputContext(finalizer(exit), (_: Context.Context<never>) => services))))
