// GET/POST /v1/ca/rotation (admin): the staged root rotation's status, and an admin's action on it.
import type { RequestHandler } from 'express';
import { parseDuration } from '@fsm-certs/core';
import { rootRotationRequestSchema, type ProblemCode } from '@fsm-certs/api';
import { MAX_ROTATION_PERIOD_MS, MIN_ROTATION_PERIOD_MS, type RootRotationJobPayload } from '@fsm-certs/queue';
import { principalOf } from '../auth/middleware.js';
import type { GatewayDeps } from '../deps.js';
import { GatewayError } from '../errors.js';
import { readJsonBody } from '../http/json-body.js';
import { parseOr } from '../http/validate.js';
import type { OperationHandlers } from './table.js';

const BODY_LIMIT_BYTES = 16 * 1024;

function periodMs(field: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch (error) {
    throw new GatewayError('INVALID_BODY', `Invalid ${field}: ${error instanceof Error ? error.message : String(error)}.`);
  }
  if (ms < MIN_ROTATION_PERIOD_MS || ms > MAX_ROTATION_PERIOD_MS) throw new GatewayError('INVALID_BODY', `Invalid ${field}: "${value}" must be between 1s and 8760h.`);
  return ms;
}

function isProblemCode(code: string): code is ProblemCode {
  return code === 'ROTATION_CONFLICT' || code === 'ROTATION_UNSUPPORTED';
}

export function rotationHandlers(deps: GatewayDeps): Pick<OperationHandlers, 'getRootRotation' | 'changeRootRotation'> {
  const retryAfterSeconds = deps.options.retryAfterSeconds ?? 2;
  const port = () => {
    if (deps.rootRotation === undefined) throw new GatewayError('BACKEND_UNAVAILABLE', 'This gateway is not connected to the root-rotation queue.', { retryAfterSeconds });
    return deps.rootRotation;
  };
  const getRootRotation: RequestHandler = async (_req, res) => {
    const status = await port().status();
    if (status === undefined) throw new GatewayError('BACKEND_UNAVAILABLE', 'No root rotation status yet: no ca-service has published one; retry shortly.', { retryAfterSeconds });
    res.json(status);
  };
  const changeRootRotation: RequestHandler = async (req, res) => {
    const body = parseOr(rootRotationRequestSchema, await readJsonBody(req, BODY_LIMIT_BYTES), 'INVALID_BODY', 'root rotation request');
    const propagationMs = periodMs('propagation', body.propagation);
    const spreadMs = periodMs('spread', body.spread);
    if (body.action !== 'start' && (body.auto !== undefined || propagationMs !== undefined || spreadMs !== undefined)) {
      throw new GatewayError('INVALID_BODY', `auto, propagation and spread go with "start" only, not "${body.action}".`);
    }
    const payload: RootRotationJobPayload = {
      version: 1,
      action: body.action,
      requestedBy: principalOf(req).name,
      ...(body.auto === undefined ? {} : { auto: body.auto }),
      ...(propagationMs === undefined ? {} : { propagationMs }),
      ...(spreadMs === undefined ? {} : { spreadMs }),
      ...(body.force === undefined ? {} : { force: body.force }),
    };
    const result = await port().act(payload);
    if (result.ok) {
      res.json(result.status);
      return;
    }
    const { error } = result;
    if (isProblemCode(error.code)) throw new GatewayError(error.code, error.message);
    throw new GatewayError(error.httpStatus >= 500 ? 'ISSUANCE_FAILED' : 'INVALID_BODY', error.message, { httpStatus: error.httpStatus, publicCode: error.code });
  };
  return { getRootRotation, changeRootRotation };
}
