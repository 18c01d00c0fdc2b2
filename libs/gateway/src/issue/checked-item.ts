// An issue item is checked against its job contract (issueItemSchema) once on its way to the
// queue: the batcher checks each request's item, and the issue client then skips the items it
// knows were checked (the very objects the check returned, which nothing mutates: the batcher
// and the client only read them). Items from elsewhere are still checked by the client.
import type { z } from 'zod';
import { issueItemSchema, type IssueItem } from '@fsm-certs/queue';

const checked = new WeakSet<IssueItem>();

export type ItemCheck = { readonly success: true; readonly data: IssueItem } | { readonly success: false; readonly error: z.ZodError };

/** issueItemSchema.safeParse, unless this very item already passed it. */
export function checkIssueItem(item: IssueItem): ItemCheck {
  if (checked.has(item)) return { success: true, data: item };
  const parsed = issueItemSchema.safeParse(item);
  if (!parsed.success) return { success: false, error: parsed.error };
  checked.add(parsed.data);
  return { success: true, data: parsed.data };
}
