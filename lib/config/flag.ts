import { z } from 'zod';

/** "true"/"false"/"1"/"0" from the environment, a boolean in a config file; z.coerce.boolean would read "false" as true. */
export const flag = z.preprocess((value) => {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  return value;
}, z.boolean());
