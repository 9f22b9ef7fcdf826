// Adapters that give the call engine what it asks for (ports.ts) from the modules, numbers,
// accounts and billing capabilities.
import { FREE_PLAN, type CallMetering } from '../billing/index.js';
import { isTwilioError, type Logger } from '../core/index.js';
import type { AccountDirectory } from '../plugin/index.js';
import type {
  ModuleResolution,
  ModuleTarget,
  SegmentMeter,
  SpendState,
  VoiceDirectory,
} from './ports/index.js';
import { canUseModule, dispatch, type ModuleInfo, type Modules } from './modules/index.js';
import type { Numbers } from './numbers/index.js';

function targetOf(m: ModuleInfo): ModuleTarget | undefined {
  return m.voiceUrl ? moduleTarget(m, m.voiceUrl) : undefined;
}

/** The module's entry point at `url` (the dispatcher's answer, or the module's VoiceUrl). */
function moduleTarget(m: ModuleInfo, url: string): ModuleTarget {
  return {
    moduleSid: m.sid,
    url,
    method: m.voiceMethod,
    fallbackUrl: m.voiceFallbackUrl,
    fallbackMethod: m.voiceFallbackMethod,
    statusCallback: m.statusCallback,
    statusCallbackMethod: m.statusCallbackMethod,
  };
}

export function voiceDirectory(
  accounts: AccountDirectory,
  modules: Modules,
  numbers: Numbers,
  logger: Logger,
): VoiceDirectory {
  return {
    async authToken(accountSid) {
      return (await accounts.status(accountSid)) === 'active'
        ? accounts.authToken(accountSid)
        : undefined;
    },
    async findInboundRoute(to) {
      const route = await numbers.findRoute(to);
      if (!route) return undefined;
      // The number's first module passes the same policy as a <Redirect> to it would.
      if (route.module) {
        const decision = await canUseModule(modules, route.module, route.accountSid);
        if (!decision.allowed) {
          logger.warn(
            { to, module: route.module.sid, code: decision.error.code },
            'inbound call refused by module policy',
          );
          return undefined;
        }
      }
      const moduleTarget = route.module ? targetOf(route.module) : undefined;
      const url = moduleTarget?.url ?? route.url;
      if (!url) return undefined;
      return {
        accountSid: route.accountSid,
        numberSid: route.numberSid,
        moduleSid: route.module?.sid ?? null,
        url,
        method: moduleTarget?.method ?? route.method,
        fallbackUrl: moduleTarget?.fallbackUrl ?? route.fallbackUrl,
        fallbackMethod: moduleTarget?.fallbackMethod ?? route.fallbackMethod,
        statusCallback: route.statusCallback ?? route.module?.statusCallback ?? null,
        statusCallbackMethod: route.statusCallback
          ? route.statusCallbackMethod
          : (route.module?.statusCallbackMethod ?? 'POST'),
      };
    },
    async resolveModule(accountSid, code, _callSid, purpose): Promise<ModuleResolution> {
      try {
        const t = await dispatch(modules, code, accountSid, {
          spendLimitHandoff: purpose === 'spend-limit',
        });
        return { ok: true, target: { ...moduleTarget(t.module, t.url), method: t.method } };
      } catch (e) {
        if (isTwilioError(e)) return { ok: false, code: e.code, message: e.message };
        throw e;
      }
    },
    async numberSid(accountSid, address) {
      const route = await numbers.findRoute(address);
      return route?.accountSid === accountSid ? route.numberSid : undefined;
    },
    async moduleBySid(accountSid, sid) {
      const m = await modules.findBySid(sid);
      if (!m) return undefined;
      try {
        const t = await dispatch(modules, m.moduleCode ?? '', accountSid);
        return targetOf(t.module);
      } catch {
        // A module without a code is usable only by its own account.
        return m.accountSid === accountSid ? targetOf(m) : undefined;
      }
    },
  };
}

const NO_LIMIT: SpendState = {
  reached: false,
  accountHandoffModule: null,
  msUntilLimit: undefined,
};

/**
 * Segments through billing. Open segments are touched every few seconds, so that a crash
 * loses at most that much metered time: on restart they close at their last known time.
 */
export function segmentMeter(
  billing: Pick<
    CallMetering,
    'openSegment' | 'touch' | 'closeSegment' | 'spendLimit' | 'checkSpend'
  >,
  modules: Modules,
  logger: Logger,
  heartbeatMs = 5000,
): { meter: SegmentMeter; stop(): void } {
  const open = new Set<string>();
  const heartbeat = setInterval(() => {
    if (open.size === 0) return;
    billing
      .touch([...open], Date.now())
      .catch((err: unknown) => logger.error({ err }, 'segment heartbeat failed'));
  }, heartbeatMs);
  heartbeat.unref();
  const meter: SegmentMeter = {
    async open(call, moduleSid, reason, at) {
      const m = moduleSid ? await modules.findBySid(moduleSid) : undefined;
      const row = await billing.openSegment({
        callSid: call.callSid,
        moduleSid: m?.sid ?? null,
        moduleCode: m?.moduleCode ?? null,
        publisherAccountSid: m?.accountSid ?? call.accountSid,
        userAccountSid: call.accountSid,
        direction: call.direction,
        plan: m?.plan ?? FREE_PLAN,
        startedMs: at,
        reason,
        // A call's segment opened at its start is its first: numbered without a read.
        first: reason === 'start',
      });
      open.add(row.sid);
      return row.sid;
    },
    async close(segmentId, reason, at) {
      open.delete(segmentId);
      await billing.closeSegment(segmentId, at, reason);
    },
    async checkSpend(callSid, accountSid, at, callLimitMicros) {
      // Most calls have no limit at all: then there is nothing to read (the limit is cached).
      if (callLimitMicros === undefined && !(await billing.spendLimit(accountSid))) return NO_LIMIT;
      const check = await billing.checkSpend({ accountSid, callSid, nowMs: at, callLimitMicros });
      return {
        reached: check.reached,
        accountHandoffModule: check.accountHandoffModule,
        msUntilLimit: check.msUntilLimit,
      };
    },
  };
  return { meter, stop: () => clearInterval(heartbeat) };
}
