/** Messages per second per key over a sliding window of whole seconds. */
export interface Rates {
  add(key: string, now?: number): void;
  /** Each key's rate over the window, highest first; keys quiet for the whole window are left out. */
  perSecond(now?: number): Array<{ key: string; perSecond: number }>;
}

export function createRates(windowS = 10): Rates {
  // key -> counts by second (epoch second -> count), only the window's seconds kept
  const counts = new Map<string, Map<number, number>>();
  const prune = (byS: Map<number, number>, nowS: number) => {
    for (const s of byS.keys()) if (s <= nowS - windowS) byS.delete(s);
  };
  return {
    add(key, now = Date.now()) {
      const s = Math.floor(now / 1000);
      let byS = counts.get(key);
      if (!byS) counts.set(key, (byS = new Map<number, number>()));
      byS.set(s, (byS.get(s) ?? 0) + 1);
      if (byS.size > windowS) prune(byS, s);
    },
    perSecond(now = Date.now()) {
      const nowS = Math.floor(now / 1000);
      const out: Array<{ key: string; perSecond: number }> = [];
      for (const [key, byS] of counts) {
        prune(byS, nowS);
        if (byS.size === 0) {
          counts.delete(key);
          continue;
        }
        let n = 0;
        for (const c of byS.values()) n += c;
        out.push({ key, perSecond: Math.round((n / windowS) * 10) / 10 });
      }
      return out.sort((a, b) => b.perSecond - a.perSecond || a.key.localeCompare(b.key));
    },
  };
}
