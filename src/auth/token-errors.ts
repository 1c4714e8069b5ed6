// The one place jose's failures become the gateway's TOKEN_* errors. Messages
// say what was wrong and what to do; none ever contains the token.

import { errors } from 'jose';
import { GatewayError, type ErrorCode } from '../errors.js';

const GET_A_NEW_TOKEN = 'Get a new token.';

/** What a caller hears when a token's signature matches no trusted key. */
export const SIGNATURE_MISMATCH = 'The token\'s signature does not match any key this gateway trusts.';

function tokenError(code: ErrorCode, message: string, details: Record<string, string> = {}): GatewayError {
  return new GatewayError(code, message, details);
}

function isoTime(seconds: unknown): string {
  return typeof seconds === 'number' && Number.isFinite(seconds) ? new Date(seconds * 1000).toISOString() : 'an unreadable time';
}

/** Where a failure happened, so the message can name the key source. */
export interface TokenErrorContext {
  issuer: string;
  audience: string;
  /** Set when the failure came from fetching or reading the JWKS (AUTH_JWKS_URL). */
  fromJwks?: boolean;
}

function claimError(error: errors.JWTClaimValidationFailed, context: TokenErrorContext): GatewayError {
  const { claim, reason, payload } = error;
  if (claim === 'iss') return tokenError('TOKEN_ISSUER_INVALID', `The token was not issued by "${context.issuer}", the issuer this gateway trusts.`);
  if (claim === 'aud') return tokenError('TOKEN_AUDIENCE_INVALID', `The token is not meant for this gateway: its audience does not include "${context.audience}".`);
  if (claim === 'nbf' && reason === 'check_failed') {
    return tokenError('TOKEN_NOT_YET_VALID', `The token is not valid before ${isoTime(payload.nbf)}; check the clocks of the issuer and the gateway.`);
  }
  if (claim === 'exp' && reason === 'missing') {
    return tokenError('TOKEN_CLAIM_INVALID', 'The token has no "exp" (expiry) claim; tokens that never expire are refused.', { claim });
  }
  const problem = reason === 'missing' ? 'is missing' : 'is not valid';
  return tokenError('TOKEN_CLAIM_INVALID', `The token's "${claim}" claim ${problem}.`, { claim });
}

// The URL stays out of the message: it goes to unauthenticated clients and may name internal hosts.
function jwksUnavailable(problem: string): GatewayError {
  return tokenError(
    'TOKEN_KEY_UNKNOWN',
    `The identity provider's key set (AUTH_JWKS_URL) ${problem}, so the token cannot be checked; try again, and tell the operator if it persists.`,
  );
}

/** Maps anything thrown while verifying a token to a GatewayError. */
export function toTokenError(error: unknown, context: TokenErrorContext): GatewayError {
  if (error instanceof GatewayError) return error;
  if (!(error instanceof errors.JOSEError)) {
    // In the JWKS stage this is fetch failing (DNS, refused connection, TLS).
    if (context.fromJwks === true) return jwksUnavailable('could not be reached');
    return tokenError('TOKEN_SIGNATURE_INVALID', 'The token could not be checked with the configured keys.');
  }
  switch (error.code) {
    case 'ERR_JWT_EXPIRED':
      return tokenError('TOKEN_EXPIRED', `The token expired at ${isoTime((error as errors.JWTExpired).payload.exp)}. ${GET_A_NEW_TOKEN}`);
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return claimError(error as errors.JWTClaimValidationFailed, context);
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return tokenError('TOKEN_SIGNATURE_INVALID', SIGNATURE_MISMATCH);
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return tokenError('TOKEN_ALGORITHM_REFUSED', 'The token\'s signing algorithm is not accepted by this gateway.');
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return tokenError('TOKEN_KEY_UNKNOWN', `The identity provider publishes no key with the token's "kid". ${GET_A_NEW_TOKEN}`);
    case 'ERR_JWKS_TIMEOUT':
      return jwksUnavailable('did not answer in time');
    case 'ERR_JWKS_INVALID':
      return jwksUnavailable('is not a valid JWKS document');
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return tokenError('TOKEN_MALFORMED', 'The token is not a well-formed signed JWT.');
    default:
      // ERR_JOSE_GENERIC from the JWKS fetch is a non-200 answer.
      if (context.fromJwks === true) return jwksUnavailable('could not be fetched');
      return tokenError('TOKEN_MALFORMED', 'The token is not a well-formed signed JWT.');
  }
}
