// The Standard Schema v1 interface (https://standardschema.dev), copied as its authors ask: zod, valibot, arktype
// and others implement it, so mq validates with any of them without depending on one.

/** A validator that implements Standard Schema v1 (zod 3.24+, valibot 1+, arktype 2+, ...). */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  /** The Standard Schema properties. */
  readonly '~standard': StandardSchemaV1.Props<Input, Output>;
}

/** The types of the Standard Schema v1 interface. */
export declare namespace StandardSchemaV1 {
  /** The properties every Standard Schema v1 validator has. */
  export interface Props<Input = unknown, Output = Input> {
    /** Always 1. */
    readonly version: 1;
    /** The library that made the schema, e.g. `zod`. */
    readonly vendor: string;
    /** Validates an unknown value; may return a promise for async schemas. */
    readonly validate: (value: unknown) => Result<Output> | Promise<Result<Output>>;
    /** The inferred types (type-level only). */
    readonly types?: Types<Input, Output> | undefined;
  }

  /** The outcome of `validate`. */
  export type Result<Output> = SuccessResult<Output> | FailureResult;

  /** A value that passed: `value` is the (possibly transformed) output. */
  export interface SuccessResult<Output> {
    /** The output value. */
    readonly value: Output;
    /** Absent on success. */
    readonly issues?: undefined;
  }

  /** A value that failed, with at least one issue. */
  export interface FailureResult {
    /** What is wrong. */
    readonly issues: ReadonlyArray<Issue>;
  }

  /** One thing wrong with a value. */
  export interface Issue {
    /** Human-readable text. */
    readonly message: string;
    /** Where in the value, if anywhere. */
    readonly path?: ReadonlyArray<PropertyKey | PathSegment> | undefined;
  }

  /** One step of an issue's path. */
  export interface PathSegment {
    /** The key of the step. */
    readonly key: PropertyKey;
  }

  /** The input and output types of a schema. */
  export interface Types<Input = unknown, Output = Input> {
    /** The input type. */
    readonly input: Input;
    /** The output type. */
    readonly output: Output;
  }

  /** The input type of a schema. */
  export type InferInput<Schema extends StandardSchemaV1> = NonNullable<
    Schema['~standard']['types']
  >['input'];

  /** The output type of a schema. */
  export type InferOutput<Schema extends StandardSchemaV1> = NonNullable<
    Schema['~standard']['types']
  >['output'];
}
