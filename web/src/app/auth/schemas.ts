// Form rules the server also enforces (checked here first for a quick answer).
import { z } from 'zod';

export const email = z.string().trim().min(1, 'Enter your email address').max(254, 'At most 254 characters').email('Enter a valid email address');
export const password = z.string().min(1, 'Enter your password').max(1024, 'At most 1,024 characters');
export const newPassword = z
  .string()
  .min(10, 'At least 10 characters (a passphrase works well)')
  .max(1024, 'At most 1,024 characters');
