/**
 * Messages an app (drachtio-srf) sends to the server: parser and builders.
 * Token positions follow drachtio-srf 5.0.29; the srf function that writes each layout is named.
 */
import { joinWireMessage, splitWireMessage, WireMessageError } from './wireMessage.js';
import type {
  AppCommand,
  PingCommand,
  ProxyCommand,
  RemoveRouteCommand,
  RouteCommand,
  SipCommand,
} from './wireTypes.js';

export function parseAppCommand(body: string): AppCommand {
  const { msgId, type, args, sip } = splitWireMessage(body);
  switch (type) {
    // `<id>|authenticate|<secret>|<tag,tag…>` — DrachtioAgent#_onConnect.
    case 'authenticate':
      return {
        kind: 'authenticate',
        msgId,
        secret: args[0] ?? '',
        tags: (args[1] ?? '').split(',').filter((t) => t !== ''),
      };
    // `<id>|route|<verb>` — DrachtioAgent#routeVerbs; verb as given to srf.use(): `invite`, `cdr:stop`.
    case 'route':
    // `<id>|remove_route|<verb>` — DrachtioAgent#removeRoute.
    case 'remove_route': {
      const verb = (args[0] ?? '').toLowerCase();
      if (verb === '') throw new WireMessageError(`${type} without a verb`);
      return { kind: type, msgId, verb };
    }
    // `<id>|ping` — WireProtocol#startPinging.
    case 'ping':
      return { kind: 'ping', msgId };
    // `<id>|sip|<txnId>|<dialogId>[|<routeUrl>]\r\n<SIP>` — DrachtioAgent#sendMessage (responses,
    // ACK/PRACK) and DrachtioAgent#_makeRequest (requests; routeUrl from opts.proxy).
    case 'sip': {
      if (sip === undefined || sip === '') throw new WireMessageError('sip command without a SIP message');
      return {
        kind: 'sip',
        msgId,
        txnId: args[0] ?? '',
        dialogId: args[1] ?? '',
        routeUrl: args[2] ?? '',
        rawSip: sip,
      };
    }
    // `<id>|proxy|<txnId>|remainInDialog?|fullResponse?|followRedirects?|simultaneous|serial|<provTimeout>|
    //  <finalTimeout>|<dest>|<dest>…\r\n<SIP>` — DrachtioAgent#proxy.
    case 'proxy': {
      if (args.length < 8) throw new WireMessageError('proxy command with too few tokens');
      return {
        kind: 'proxy',
        msgId,
        txnId: args[0] ?? '',
        remainInDialog: args[1] === 'remainInDialog',
        fullResponse: args[2] === 'fullResponse',
        followRedirects: args[3] === 'followRedirects',
        simultaneous: args[4] === 'simultaneous',
        provisionalTimeout: args[5] ?? '',
        finalTimeout: args[6] ?? '',
        destinations: args.slice(7).filter((d) => d !== ''),
        rawSip: sip ?? '',
      };
    }
    default:
      return { kind: 'unknown', msgId, type };
  }
}

// ---- builders (what srf writes; used by tests and by tools that play the app side) ----

export function buildAuthenticate(c: { msgId: string; secret: string; tags: readonly string[] }): string {
  return joinWireMessage([c.msgId, 'authenticate', c.secret, c.tags.join(',')]);
}

export function buildRoute(c: Omit<RouteCommand, 'kind'>): string {
  return joinWireMessage([c.msgId, 'route', c.verb]);
}

export function buildRemoveRoute(c: Omit<RemoveRouteCommand, 'kind'>): string {
  return joinWireMessage([c.msgId, 'remove_route', c.verb]);
}

export function buildPing(c: Omit<PingCommand, 'kind'>): string {
  return joinWireMessage([c.msgId, 'ping']);
}

export function buildSipCommand(c: Omit<SipCommand, 'kind'>): string {
  const tokens = [c.msgId, 'sip', c.txnId, c.dialogId];
  if (c.routeUrl !== '') tokens.push(c.routeUrl);
  return joinWireMessage(tokens, c.rawSip);
}

export function buildProxy(
  c: Omit<ProxyCommand, 'kind' | 'destinations'> & { destinations: readonly string[] },
): string {
  return joinWireMessage(
    [
      c.msgId,
      'proxy',
      c.txnId,
      c.remainInDialog ? 'remainInDialog' : '',
      c.fullResponse ? 'fullResponse' : '',
      c.followRedirects ? 'followRedirects' : '',
      c.simultaneous ? 'simultaneous' : 'serial',
      c.provisionalTimeout,
      c.finalTimeout,
      ...c.destinations,
    ],
    c.rawSip,
  );
}
