import { plainToInstance } from 'class-transformer';
import { validate, ValidationError } from 'class-validator';
import { HttpErrors } from './http-errors';

type Dto<T> = new () => T;

/** A problem's messages and its nested fields' (`publisher.slug …`): messages only, never values. */
function problemsOf(e: ValidationError): string[] {
  return [...Object.values(e.constraints ?? {}), ...(e.children ?? []).flatMap(problemsOf)];
}

/**
 * Checks a form's or a query's values with a DTO's own rules, as the API's ValidationPipe does for its
 * bodies and queries: a page's refusal is then the very `validation_failed` (same words) the API gives.
 */
export async function validateDto<T extends object>(dto: Dto<T>, plain: Record<string, unknown>): Promise<T> {
  const value = plainToInstance(dto, plain);
  const problems = (
    await validate(value, {
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      validationError: { target: false, value: false },
    })
  ).flatMap(problemsOf);
  if (problems.length) throw HttpErrors.ValidationFailed(problems);
  return value;
}
