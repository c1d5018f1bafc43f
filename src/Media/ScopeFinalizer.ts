import { Effect, type Exit, Scope } from "effect"

/**
 * Runs `finalizer` when the enclosing scope (a call's) closes, like `Effect.addFinalizer`, but
 * without putting back the fiber's references as they were when it was added: that restore
 * diffs and patches the fiber's whole context twice per finalizer (bench/RESULTS.md, "Where a
 * call's allocations go"). Nor does it keep the context it was added in: a call keeps its
 * finalizers for its whole length, and that context (with the call's span and scope) was a
 * copy of every service per call. The finalizer needs no service (its type says so) and runs
 * on the fiber that closes the scope: the call's own, with the call's log annotations and its
 * span as the parent (Call.ts).
 */
export const onScopeClose = <X>(finalizer: (exit: Exit.Exit<unknown, unknown>) => Effect.Effect<X>) =>
  Effect.flatMap(Effect.scope, (scope) => Scope.addFinalizerExit(scope, finalizer))
