import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import { catchError, type Observable, throwError } from 'rxjs';
import { MqContext } from './context.js';

/** The error each failed handler threw, by its context, until the server reads it. */
const failures = new WeakMap<MqContext, unknown>();

/**
 * Keeps the error an `MqServer` handler throws, before Nest's exception filter turns it into `Internal server
 * error`, so that mq's `HANDLER_FAILED` events and dead letters (`mq-dead-letter-error`) say what failed.
 * `@MqEventPattern` puts it on its handler; `MqModule.forRoot` registers it globally too, for Nest's own
 * `@EventPattern` (a hybrid app's microservice gets global enhancers only with `connectMicroservice(options,
 * { inheritAppConfig: true })`; or add it with `@UseInterceptors(MqErrorInterceptor)`). Other contexts pass
 * through untouched.
 */
export class MqErrorInterceptor implements NestInterceptor {
  /** Records the handler's error on its {@link MqContext} and passes it on unchanged. */
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const rpc = context.getType() === 'rpc' ? context.switchToRpc().getContext() : undefined;
    if (!MqContext.isInstance(rpc)) return next.handle();
    return next.handle().pipe(
      catchError((error: unknown) => {
        failures.set(rpc, error);
        return throwError(() => error);
      }),
    );
  }
}

/** The error the handler of `context` threw, if the interceptor saw one; forgotten once read. */
export function takeFailure(context: MqContext): unknown {
  const failure = failures.get(context);
  failures.delete(context);
  return failure;
}
