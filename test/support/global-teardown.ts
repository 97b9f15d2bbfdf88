/** Each suite drops what it created; nothing global to undo. */
export default async function globalTeardown(): Promise<void> {}
