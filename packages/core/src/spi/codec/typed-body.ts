import { MqError } from '../../api/errors.js';
import type { SendOptions } from '../../api/send-options.js';
import type { StandardSchemaV1 } from '../../api/standard-schema.js';
import { errorText, type PackageErrors } from '../errors.js';
import { codecFor, issuesText, mediaType, type ResolvedCodec } from './codecs.js';

/** A body that passed, or why it did not. */
export type Verdict =
  | { readonly ok: true; readonly body: unknown }
  | { readonly ok: false; readonly why: string };

/** What a send goes out with once its body is checked and encoded. */
export interface EncodedSend {
  /** The bytes. */
  readonly payload: Uint8Array;
  /** The send options, with the codec's content type where the queue carries metadata. */
  readonly options: SendOptions | undefined;
}

/**
 * A queue's bodies: checked against its `schema` and encoded by its `codec` on the way out, decoded (by the
 * message's content type or the codec) and checked on the way in. A `'bytes'` queue without schema costs nothing.
 */
export class TypedBodies {
  readonly #errors: PackageErrors;
  readonly #name: string;
  readonly #codec: ResolvedCodec;
  readonly #schema: StandardSchemaV1 | undefined;

  /** True when received payloads are decoded into another body than the bytes. */
  readonly decodes: boolean;
  /** True when bodies are checked against a schema. */
  readonly validates: boolean;
  /** True when sends go out as given (a `'bytes'` queue without schema). */
  readonly passesThrough: boolean;

  /** For queue `name`, with its resolved `codec` and `schema`. */
  constructor(
    errors: PackageErrors,
    name: string,
    codec: ResolvedCodec,
    schema: StandardSchemaV1 | undefined,
  ) {
    this.#errors = errors;
    this.#name = name;
    this.#codec = codec;
    this.#schema = schema;
    // Read on every send and every delivery: fixed for the queue's life, so worked out once.
    this.decodes = codec.name !== 'bytes';
    this.validates = schema !== undefined;
    this.passesThrough = !this.decodes && !this.validates;
  }

  /**
   * The payload and options of a send of `body`: validated, encoded, with the codec's content type when
   * `carriesMetadata`. Throws (or rejects) `INVALID_ARGUMENT` naming the issues or the encoding failure.
   */
  encode(
    body: unknown,
    options: SendOptions | undefined,
    carriesMetadata: boolean,
  ): EncodedSend | Promise<EncodedSend> {
    if (!this.validates) return this.#encoded(body, options, carriesMetadata);
    const verdict = this.#validate(body);
    if (verdict instanceof Promise) {
      return verdict.then((result) => this.#afterSendCheck(body, result, options, carriesMetadata));
    }
    return this.#afterSendCheck(body, verdict, options, carriesMetadata);
  }

  /** The body of a received message: by its content type's codec where there is one, else the queue's. */
  decode(payload: Buffer, contentType: string | undefined): Verdict {
    const codec = codecFor(this.#codec, contentType);
    try {
      return { ok: true, body: codec.decode(payload) };
    } catch (error) {
      const by =
        codec === this.#codec
          ? `the queue's ${codec.name} codec`
          : `the ${codec.name} codec (content type ${contentType})`;
      return { ok: false, why: `${by} could not decode it: ${errorText(error)}` };
    }
  }

  /** Checks a received body against the schema: its output, or why it failed; a promise for async schemas. */
  check(body: unknown): Verdict | Promise<Verdict> {
    const result = this.#validate(body);
    if (!(result instanceof Promise)) return verdictOf(result);
    return result.then(verdictOf, (error: unknown) => ({
      ok: false,
      why: `the schema threw: ${errorText(error)}`,
    }));
  }

  #validate(body: unknown): StandardSchemaV1.Result<unknown> | Promise<StandardSchemaV1.Result<unknown>> {
    const schema = this.#schema as StandardSchemaV1;
    try {
      const result = schema['~standard'].validate(body);
      // A thenable of another realm or library is a promise too.
      return isThenable(result) ? Promise.resolve(result) : result;
    } catch (error) {
      return { issues: [{ message: `the schema threw: ${errorText(error)}` }] };
    }
  }

  #afterSendCheck(
    body: unknown,
    result: StandardSchemaV1.Result<unknown>,
    options: SendOptions | undefined,
    carriesMetadata: boolean,
  ): EncodedSend {
    if (result.issues !== undefined) {
      throw new MqError(
        'INVALID_ARGUMENT',
        `[${this.#errors.pkg}] body of a send on '${this.#name}' fails the queue's schema: ${issuesText(result.issues)}; nothing was sent`,
        { issues: result.issues },
      );
    }
    // The body as given goes out, not the schema's output: receivers validate (and transform) it again.
    return this.#encoded(body, options, carriesMetadata);
  }

  #encoded(body: unknown, options: SendOptions | undefined, carriesMetadata: boolean): EncodedSend {
    const codec = this.#codec;
    if (codec.name === 'bytes') return { payload: body as Uint8Array, options };
    let payload: Uint8Array;
    try {
      payload = codec.encode(body);
    } catch (error) {
      throw this.#errors.argument(
        `body of a send on '${this.#name}' could not be encoded by the ${codec.name} codec: ${errorText(error)}; nothing was sent`,
      );
    }
    if (!(payload instanceof Uint8Array)) {
      throw this.#errors.argument(
        `the ${codec.name} codec of '${this.#name}' encoded a body as ${typeof payload}, not a Uint8Array; nothing was sent`,
      );
    }
    const contentType = codec.contentType as string;
    const given = options?.contentType;
    if (typeof given === 'string' && mediaType(given) !== mediaType(contentType)) {
      throw this.#errors.argument(
        `options.contentType '${given}' contradicts the ${codec.name} codec of '${this.#name}' (${contentType}); leave it out`,
      );
    }
    if (!carriesMetadata || given !== undefined) return { payload, options };
    return { payload, options: { ...options, contentType } };
  }
}

function verdictOf(result: StandardSchemaV1.Result<unknown>): Verdict {
  if (result.issues !== undefined) return { ok: false, why: `schema: ${issuesText(result.issues)}` };
  return { ok: true, body: result.value };
}

function isThenable<V>(value: V | PromiseLike<V>): value is PromiseLike<V> {
  return (
    typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
  );
}
