import type { CallCommands } from '../../calls/callCommands.js';
import type { CallService } from '../../calls/callService.js';
import { ApiError } from '../apiError.js';
import { asApiErrors } from '../callCommandErrors.js';
import { callActionSchema, callUpdateSchema } from '../schemas/callActionSchemas.js';
import { CALL_ID_PATTERN } from '../schemas/callSchemas.js';
import { parseOrThrow } from '../validation.js';
import type { ChannelCommand, CommandHandler, CommandOutcome } from './commandHandler.js';

/**
 * Commands from the control plane's socket, run by the same code and the same validation as the
 * REST routes (PATCH /v1/calls/{id} for hangup and update, POST …/actions for the rest). The
 * control plane authenticated with its own token and acts for every app, as an admin key does.
 */
export class CallCommandHandler implements CommandHandler {
  constructor(
    private readonly calls: CallService,
    private readonly commands: CallCommands,
  ) {}

  async handle(command: ChannelCommand): Promise<CommandOutcome> {
    try {
      return { ok: true, result: await this.run(command) };
    } catch (error) {
      if (error instanceof ApiError) return { ok: false, error: error.toBody().error };
      throw error;
    }
  }

  private async run(command: ChannelCommand): Promise<unknown> {
    if (!CALL_ID_PATTERN.test(command.callId)) {
      throw ApiError.badRequest([
        { field: 'callId', message: 'must be call_ or call_test_ and 27 letters or digits' },
      ]);
    }
    const call = await this.calls.find(command.callId);
    if (!call) throw ApiError.notFound(`no call ${command.callId}`);
    return asApiErrors(() => {
      switch (command.action) {
        case 'hangup':
          return this.commands.hangup(call);
        case 'update':
          return this.commands.update(call, parseOrThrow(callUpdateSchema, command.params, 'params'));
        default:
          return this.commands.decide(
            call,
            parseOrThrow(callActionSchema, { action: command.action, ...command.params }, 'params'),
          );
      }
    });
  }
}
