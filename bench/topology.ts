/** One simulated user: its token, its group and its position (slot) in that group. */
export interface Member {
  readonly index: number;
  readonly userId: string;
  readonly token: string;
  readonly group: number;
  readonly slot: number;
}

/** A group chat of the standard workload; `chatId` as the server named it. */
export interface Group {
  readonly index: number;
  chatId: string;
  readonly members: Member[];
}

export interface Topology {
  readonly members: Member[];
  readonly groups: Group[];
}

/** `users` users `b1…bN` in consecutive groups of `groupSize` (the last group may be smaller). */
export function makeTopology(users: number, groupSize: number, tokenOf: (userId: string) => string, prefix = 'b'): Topology {
  const members: Member[] = [];
  const groups: Group[] = [];
  for (let i = 0; i < users; i++) {
    const group = Math.floor(i / groupSize);
    if (!groups[group]) groups[group] = { index: group, chatId: String(group + 1), members: [] };
    const userId = `${prefix}${i + 1}`;
    const member: Member = { index: i, userId, token: tokenOf(userId), group, slot: i % groupSize };
    members.push(member);
    groups[group]!.members.push(member);
  }
  return { members, groups };
}

/** Runs `fn` over `items` with at most `limit` in flight; rejects on the first failure. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
