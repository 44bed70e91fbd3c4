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
 * several patterns is still one message: callers deliver it once.
 */
export function topicMatcher(patterns: readonly string[]): (topic: string) => boolean {
  const split = patterns.map((pattern) => pattern.split('.'));
  return (topic) => {
    const words = topic === '' ? [] : topic.split('.');
    return split.some((pattern) => wordsMatch(pattern, words));
  };
}
