import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { HttpErrors } from './http-errors';

type Dto<T> = new () => T;

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
  ).flatMap((e) => Object.values(e.constraints ?? {}));
  if (problems.length) throw HttpErrors.ValidationFailed(problems);
  return value;
}
