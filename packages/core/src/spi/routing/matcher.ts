/**
 * Whether `topic` (words joined by dots) matches `pattern`: a word matches itself, `*` exactly one word, and a last
 * `#` zero or more words (so `orders.#` matches `orders` too), as AMQP topic exchanges and MQTT filters agree.
 * Both are taken as already checked (see `checkTopic`, `checkTopicPattern`).
 */
export function topicMatches(pattern: string, topic: string): boolean {
  return wordsMatch(pattern.split('.'), topic === '' ? [] : topic.split('.'));
}

function wordsMatch(pattern: readonly string[], topic: readonly string[]): boolean {
  for (let i = 0; i < pattern.length; i += 1) {
    const word = pattern[i];
    if (word === '#') return true;
    if (i >= topic.length) return false;
    if (word !== '*' && word !== topic[i]) return false;
  }
  return pattern.length === topic.length;
}

/**
 * One test for a receiver's whole `topics`: true when `topic` matches any of them. A message that matches
 * several patterns is still one message: callers deliver it once. Compiled to one regular expression (a word is
 * itself, `*` one word, a last `#` the rest, possibly nothing), so that a delivery costs one test, not a split.
 */
export function topicMatcher(patterns: readonly string[]): (topic: string) => boolean {
  const regex = new RegExp(`^(?:${patterns.map(patternSource).join('|')})$`);
  return (topic) => regex.test(topic);
}

/** The regular expression of one (checked) pattern, whose words need no escaping. */
function patternSource(pattern: string): string {
  const words = pattern.split('.');
  const last = words[words.length - 1];
  if (last !== '#') return words.map(wordSource).join('\\.');
  const head = words.slice(0, -1).map(wordSource).join('\\.');
  // `a.#` is `a` and `a.` followed by anything; `#` alone is anything, the empty topic too.
  return head === '' ? '.*' : `${head}(?:\\..*)?`;
}

function wordSource(word: string): string {
  return word === '*' ? '[^.]+' : word;
}
