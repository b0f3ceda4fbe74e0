/**
 * "did you mean X?" for a misspelled key or name: the closest candidate by
 * edit distance (Levenshtein), when it is close enough to be a typo (at most
 * 2 edits, or a third of the word's length for long words).
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  if (word.length > 128) return undefined;
  const limit = Math.max(2, Math.floor(word.length / 3));
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance <= limit && (!best || distance < best.distance)) best = { candidate, distance };
  }
  return best?.candidate;
}

/** `; did you mean "X"?` or the empty string. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const found = closest(word, candidates);
  return found ? `; did you mean "${found}"?` : '';
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
