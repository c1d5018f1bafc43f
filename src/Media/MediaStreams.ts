import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import { AudioProviders } from "../Voices/AudioProviders.js"
import { ElevenLabsConfig } from "../Voices/Config.js"
import { Context, Effect, Fiber, FiberRef, FiberSet, Option, Runtime } from "effect"
import { label, upgradeToStartWith } from "../Observability/Metrics.js"
import { WebSocketServer, type WebSocket } from "ws"
import { StreamTokens, type TokenUse } from "../Auth/StreamTokens.js"
import { VersionResolution } from "../Agents/VersionResolution.js"
import { FunctionRegistry } from "../Tools/FunctionRegistry.js"
import { CallRecords } from "../CallLogs/CallRecords.js"
import { LiveCalls } from "../LiveCalls/LiveCalls.js"
import { TwilioClient } from "../Twilio/Client.js"
import { AppConfig } from "../Config.js"
import { TenantCache } from "../TenantCache/TenantCache.js"
import { LiveLogs } from "../LiveLogs/LiveLogs.js"
import { type AudioBudget, BootstrapHandler, LATE, type PreAuth, StreamRejected } from "./Bootstrap.js"
import { callSetUpServices, runCall } from "./Call.js"
import { SpareUpstreams } from "./SpareUpstreams.js"
import { ParkedCalls } from "./CallClosing.js"
import type { Fork } from "./CallFibers.js"
import { type CallIdentity, identify, TOKEN_UNCHECKED } from "./CallIdentity.js"
import { SetupLoad } from "../Limits/SetupLoad.js"
import { MediaConfig } from "./MediaConfig.js"
import { PendingSockets, StreamSetUp } from "./StreamSetUp.js"
import { TwilioSocket } from "./TwilioSocket.js"
import { takeUpgradeSocket } from "./Upgrade.js"
import { runTranslationLeg } from "../Translation/TranslationCall.js"
import { TranslationConfig } from "../Translation/TranslationConfig.js"
import { TranslationPairs } from "../Translation/TranslationPairs.js"
import { TranslationRooms } from "../Translation/Rooms.js"
import { CallMonitors } from "../Monitoring/CallMonitors.js"
import { runListenLeg } from "../Monitoring/ListenLeg.js"

/**
 * What a call needs from the rest of the service, and all its fiber carries: every copy of a
 * fiber's context (each span, `Effect.scoped`, `provideService`, a forked fiber's runtime) copies
 * every service in it, ~100 for the app's whole context against these 16 (bench/RESULTS.md, "CPU
 * per call during set-up"). A function, so the tags are read when the service is built (no
 * import-cycle ordering); the type below comes from the same list, so a call's fiber cannot be
 * handed an effect needing a service it does not carry.
 */
const callServiceTags = () =>
  [
    AppConfig,
    MediaConfig,
    StreamTokens,
    TenantCache,
    VersionResolution,
    FunctionRegistry,
    CallRecords,
    LiveCalls,
    TwilioClient,
    TranslationConfig,
    TranslationRooms,
    TranslationPairs,
    AudioProviders,
    ElevenLabsConfig,
    LiveLogs,
    CallMonitors
  ] as const
type CallServices = Context.Tag.Identifier<ReturnType<typeof callServiceTags>[number]>

/** What a socket becomes once it has authenticated: a call, a translation leg or a listen-only leg. */
type AnyLeg = ReturnType<typeof runCall> | ReturnType<typeof runTranslationLeg> | ReturnType<typeof runListenLeg>
type Leg = Effect.Effect<void, Effect.Effect.Error<AnyLeg>, Effect.Effect.Context<AnyLeg>>

export const textResponse = (status: number, text: string) => HttpServerResponse.text(text, { status })

/**
 * The `/media-stream` endpoint's machinery: one `ws` server in noServer mode (the HTTP
 * server's 'upgrade' event belongs to the platform), the count of sockets still waiting
 * to authenticate, and the calls: a fiber in this service's scope per socket until its call is
 * set up, then the call on its own (ParkedCalls) — shutting the service down ends every call
 * through its normal path (sockets closed, record written).
 */
export class MediaStreams extends Effect.Service<MediaStreams>()("MediaStreams", {
  scoped: Effect.gen(function*() {
    const config = yield* MediaConfig
    const tokens = yield* StreamTokens
    const setupLoad = yield* SetupLoad
    // No client tracking: calls are tracked (and ended at shutdown) by ParkedCalls and LiveCalls;
    // ws's own Set kept an entry and a 'close' closure (with its context) per socket, and made
    // the socket's 'close' listeners an array (~0.2 KB per live call, bench/RESULTS.md).
    const wss = yield* Effect.acquireRelease(
      Effect.sync(() =>
        new WebSocketServer({
          noServer: true,
          clientTracking: false,
          skipUTF8Validation: true,
          perMessageDeflate: false,
          maxPayload: config.maxFrameBytes
        })
      ),
      (server) => Effect.sync(() => server.close())
    )
    const calls = yield* FiberSet.make()
    // The calls' runtime holds only the services a call uses (its log annotations, tracer and
    // other fiber references as before).
    const callContext = Context.pick(...callServiceTags())(yield* Effect.context<CallServices>())
    const run = yield* FiberSet.runtime(calls)<CallServices>().pipe(
      Effect.locally(FiberRef.currentContext, callContext as Context.Context<never>)
    )
    // Background work of the calls (tools, the upstream's opening): one runtime for all of them.
    const fork: Fork<CallServices> = Runtime.runFork(
      yield* Effect.runtime<CallServices>().pipe(Effect.locally(FiberRef.currentContext, callContext as Context.Context<never>))
    )
    // The calls past their set-up, without a fiber of their own (CallClosing.ts).
    const parked = new ParkedCalls(fork)
    // Set-ups in flight are interrupted first (one that completes meanwhile is parked), then the
    // parked calls end. The media handler runs it before the HTTP server closes; this service's
    // own close runs it again (nothing left by then), in case it is built without the handler.
    const endAll = Effect.zipRight(Effect.suspend(() => Fiber.interruptAll(Array.from(calls))), parked.endAll())
    yield* Effect.addFinalizer(() => endAll)
    const setUpServices = yield* callSetUpServices
    // The calls' clock (the one their runtime carries), read as plain code.
    const clock = yield* Effect.clock
    const pending = new PendingSockets(setupLoad)
    const audioBudget: AudioBudget = {
      perSocket: config.prestartAudioBytes,
      total: { used: 0, max: config.prestartAudioTotalBytes }
    }

    const claimUse = (use: TokenUse) =>
      tokens.claim(use).pipe(
        Effect.catchTags({
          InvalidStreamToken: (error) => Effect.fail(new StreamRejected({ message: error.message })),
          DatabaseUnavailable: () => Effect.fail(new StreamRejected({ message: TOKEN_UNCHECKED }))
        })
      )

    /**
     * What follows an authenticated `start` (plain code, on the stream's fiber): the bootstrap
     * settles unless the call's ledger row will spend the token, the socket takes its stream's
     * frames, the upgrade -> start time is counted.
     */
    const started = (twilio: TwilioSocket, boot: BootstrapHandler, id: CallIdentity, ownCall: boolean, waited: number) =>
      Effect.withFiberRuntime<void>((fiber) => {
        if (id.tokenUse === undefined || !ownCall) boot.settle()
        twilio.setStreamSid(id.streamSid)
        upgradeToStartWith([label("tenant", id.tenantId)]).unsafeUpdate(waited, fiber.getFiberRef(FiberRef.currentMetricLabels))
        twilio.callStarted()
        return Effect.void
      })

    /** Waits for `start` and authenticates it; a leg other than a call spends its token here. */
    const authenticate = (twilio: TwilioSocket, boot: BootstrapHandler, preAuth: PreAuth, upgradedAt: number, setUp: StreamSetUp) =>
      Effect.flatMap(boot.started(), (start) => {
        setUp.starting()
        const startAt = clock.unsafeCurrentTimeMillis()
        return Effect.flatMap(identify(start, preAuth, tokens, startAt), (id: CallIdentity) => {
          if (boot.late) return Effect.fail(new StreamRejected({ message: LATE }))
          // A call records its token's use with its ledger row (runCall: one statement) and settles
          // its bootstrap then, so its set-up counts until the token is spent; any other leg spends it here.
          const ownCall = id.translationRoom == null && id.monitorOf == null
          const done = Effect.as(started(twilio, boot, id, ownCall, startAt - upgradedAt), { id, startAt } as const)
          return id.tokenUse !== undefined && !ownCall ? Effect.zipRight(claimUse(id.tokenUse), done) : done
        })
      })

    /**
     * Bootstrap (wait for `start`, authenticate) then the leg. A call's fiber ends with its
     * set-up (runCall); a translation or listen-only leg keeps its fiber, and this `onExit`.
     */
    const stream = (twilio: TwilioSocket, boot: BootstrapHandler, preAuth: PreAuth, upgradedAt: number, address: string) => {
      const setUp = new StreamSetUp(twilio, boot, preAuth._tag === "None" ? pending : undefined, address, config.bootstrapTimeoutMs)
      return Effect.onExit(
        Effect.flatMap(authenticate(twilio, boot, preAuth, upgradedAt, setUp), ({ id, startAt }): Leg =>
          // A leg of a translation call pairs with the other leg instead of talking to an agent.
          id.translationRoom != null
            ? runTranslationLeg(twilio, boot, id, id.translationRoom)
            // A supervisor's listen-only leg hears a call of this replica instead of talking to an agent.
            : id.monitorOf != null
            ? runListenLeg(twilio, boot, id, id.monitorOf)
            : runCall(twilio, boot, id, startAt, fork, setUpServices, setUp, parked)),
        (exit) => setUp.finish(exit)
      )
    }

    /**
     * Upgrades `request` and starts its call; `preAuth` is what the request itself proved.
     * The response is 101 when the socket was handed to `ws` (nothing more is written).
     */
    const acceptNow = (request: HttpServerRequest.HttpServerRequest, preAuth: PreAuth): HttpServerResponse.HttpServerResponse => {
        const upgradedAt = clock.unsafeCurrentTimeMillis()
        const address = Option.getOrElse(request.remoteAddress, () => "unknown")
        if (preAuth._tag === "None" && pending.count >= config.maxPendingBootstrap) {
          return textResponse(429, "Too many pending bootstrap sessions")
        }
        if (preAuth._tag === "None" && pending.from(address) >= config.maxPendingPerAddress) {
          return textResponse(429, "Too many pending bootstrap sessions from this address")
        }
        const raw = takeUpgradeSocket(request)
        let upgraded: WebSocket | undefined
        wss.handleUpgrade(raw.incoming, raw.socket, raw.head, (ws) => {
          upgraded = ws
        })
        // Without `verifyClient` ws completes the handshake synchronously, or has already
        // answered the client itself (a malformed handshake).
        if (upgraded === undefined) return HttpServerResponse.empty({ status: 400 })
        const boot = new BootstrapHandler(audioBudget)
        const twilio = new TwilioSocket(upgraded, raw.socket, boot)
        twilio.limitFramesBeforeStart(config.maxPrestartFrameBytes)
        if (preAuth._tag === "None") pending.add(address)
        run(stream(twilio, boot, preAuth, upgradedAt, address))
        return HttpServerResponse.empty({ status: 101 })
    }

    return {
      accept: (request: HttpServerRequest.HttpServerRequest, preAuth: PreAuth) => Effect.sync(() => acceptNow(request, preAuth)),
      /** `accept` as plain code, for the upgrade served off node's own event (src/Media/PlainUpgrade.ts). */
      acceptNow,
      redeemQueryToken: tokens.redeem,
      pendingBootstrap: Effect.sync(() => pending.count),
      /**
       * Ends every call now (records written). The HTTP server waits for upgraded sockets
       * before it closes, so this must run first: the media handler's layer calls it.
       */
      endAll
    } as const
  }),
  dependencies: [MediaConfig.Default, TwilioClient.Default, CallMonitors.Default, SetupLoad.Default, SpareUpstreams.Default]
}) {}
