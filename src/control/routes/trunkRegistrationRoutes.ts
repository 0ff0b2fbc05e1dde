import type { RegistrationState } from '../../signalling/registration/registrationTypes.js';
import { ApiError } from '../apiError.js';
import { defineRoute, type RouteSpec } from '../routeSpec.js';
import { errorBodySchema } from '../schemas/errorSchemas.js';
import { trunkNameParamsSchema, trunkRegistrationSchema } from '../schemas/trunkRegistrationSchemas.js';

export interface TrunkRegistrationRouteDeps {
  /** The registration state of a trunk that registers; undefined for any other. */
  registrations: { state(trunk: string): RegistrationState | undefined };
  /** Whether a trunk of that name exists. */
  hasTrunk(name: string): boolean;
}

/**
 * A trunk's outbound registration (sip.trunks[].registration), for operators. The routing API
 * (GET /v1/sip/trunks/{id}) will carry the same object as its `registration`.
 */
export function trunkRegistrationRoutes(deps: TrunkRegistrationRouteDeps): RouteSpec[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/v1/sip/trunks/:name/registration',
      operationId: 'getTrunkRegistration',
      summary: "A trunk's registration with its carrier's registrar",
      tag: 'sip trunks',
      access: 'admin',
      params: trunkNameParamsSchema,
      responses: {
        200: { description: 'the registration state', schema: trunkRegistrationSchema },
        400: { description: 'malformed trunk name', schema: errorBodySchema },
        404: { description: 'no such trunk, or the trunk does not register', schema: errorBodySchema },
      },
      handler: ({ params }) => {
        const state = deps.registrations.state(params.name);
        if (state) return { trunk: params.name, ...state };
        if (!deps.hasTrunk(params.name)) {
          throw new ApiError(404, 'trunk_not_found', `no trunk named ${params.name}`);
        }
        throw new ApiError(404, 'registration_not_configured', `trunk ${params.name} does not register`);
      },
    }),
  ];
}
