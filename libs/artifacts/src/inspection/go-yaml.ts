import {
  Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  Lexer,
  parseDocument,
  visit,
  type Node as YamlNode,
} from 'yaml';
import {
  GO_NULL,
  type GoValue,
  goString,
  mapKeyToGoString,
  resolvePlainScalar,
  resolveTaggedScalar,
} from './go-semantics';

/** Why a YAML text was refused; the message is for logs, never for API clients. */
export class GoYamlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GoYamlError';
  }
}

export interface GoYamlLimits {
  /** Alias dereferences allowed in one document (billion-laughs guard), like the yaml package's maxAliasCount. */
  maxAliasCount: number;
  /** Nodes visited, counting every alias expansion. */
  maxNodes: number;
  /** Nesting depth of mappings and sequences. */
  maxDepth: number;
  /** Lexer tokens, checked before the (much slower) parser runs. */
  maxTokens: number;
}

export const DEFAULT_GO_YAML_LIMITS: GoYamlLimits = {
  maxAliasCount: 100,
  maxNodes: 100_000,
  maxDepth: 64,
  maxTokens: 100_000,
};

const YAML_TAG_PREFIX = 'tag:yaml.org,2002:';
// yaml.v2's reader: "control characters are not allowed".
const NOT_YAML_PRINTABLE = /[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u;

/**
 * Parses one YAML document the way yaml.v2 (used by Helm through sigs.k8s.io/yaml) decodes it into `interface{}`:
 * YAML 1.1 implicit types (`yes` is a bool, `0755` an octal int, `1.10` a float), `<<` merge keys, aliases.
 * The `yaml` package only tokenises (failsafe schema: every scalar stays text); types are resolved here.
 * Stricter than yaml.v2 on purpose: duplicate keys, several documents and anchors that contain themselves are
 * refused, and tokens, aliases, nodes and depth are capped.
 */
export function decodeGoYaml(text: string, limits: GoYamlLimits = DEFAULT_GO_YAML_LIMITS): GoValue {
  if (NOT_YAML_PRINTABLE.test(text)) throw new GoYamlError('control characters are not allowed');
  prescreen(text, limits);
  // uniqueKeys is off on purpose: the yaml package checks it with a linear scan per key (60,000 keys take
  // 30 s). The decoder refuses duplicates itself, by Go key identity, in constant time per key.
  const doc = parseDocument(text, {
    schema: 'failsafe',
    version: '1.1',
    uniqueKeys: false,
    merge: false,
    strict: true,
    prettyErrors: false,
  });
  if (doc.errors.length > 0) {
    throw new GoYamlError(doc.errors[0].code === 'MULTIPLE_DOCS' ? 'more than one document' : 'syntax error');
  }
  return new Decoder(doc, limits).decode();
}

/**
 * Bounds the parser's work before it starts: the lexer is fast and context-aware (a quoted or block scalar is
 * one token), while the parser needs microseconds per token and per level of flow nesting.
 */
function prescreen(text: string, limits: GoYamlLimits): void {
  let tokens = 0;
  let depth = 0;
  for (const token of new Lexer().lex(text)) {
    if (++tokens > limits.maxTokens) throw new GoYamlError('too many tokens');
    if (token === '[' || token === '{') {
      if (++depth > limits.maxDepth) throw new GoYamlError('nested too deeply');
    } else if (token === ']' || token === '}') {
      depth--;
    }
  }
}

class Decoder {
  private readonly aliasTargets = new Map<YamlNode, YamlNode | undefined>();
  private readonly expanding = new Set<YamlNode>();
  private aliases = 0;
  private nodes = 0;

  constructor(
    private readonly doc: Document,
    private readonly limits: GoYamlLimits,
  ) {
    // Each alias points at the last node with that anchor that comes before it in document order.
    const anchors = new Map<string, YamlNode>();
    visit(doc, {
      Node: (_key, node) => {
        if (isAlias(node)) this.aliasTargets.set(node, anchors.get(node.source));
        else if (node.anchor) anchors.set(node.anchor, node);
      },
    });
  }

  decode(): GoValue {
    return this.node(this.doc.contents as YamlNode | null, 0);
  }

  private node(node: YamlNode | null | undefined, depth: number): GoValue {
    if (++this.nodes > this.limits.maxNodes) throw new GoYamlError('too many nodes');
    if (depth > this.limits.maxDepth) throw new GoYamlError('nested too deeply');
    if (node === null || node === undefined) return GO_NULL;
    if (isAlias(node)) return this.alias(node, depth, (target) => this.node(target, depth));
    if (isScalar(node)) return this.scalar(node.value, node.type, node.tag);
    if (isSeq(node))
      return { kind: 'seq', items: node.items.map((item) => this.node(item as YamlNode, depth + 1)) };
    if (isMap(node)) return this.mapping(node.items as Array<{ key: unknown; value: unknown }>, depth);
    throw new GoYamlError('unsupported YAML node');
  }

  private alias<T>(node: YamlNode, depth: number, use: (target: YamlNode) => T): T {
    if (++this.aliases > this.limits.maxAliasCount) throw new GoYamlError('too many aliases');
    const target = this.aliasTargets.get(node);
    if (!target) throw new GoYamlError('unknown anchor');
    if (this.expanding.has(target)) throw new GoYamlError('anchor contains itself');
    this.expanding.add(target);
    try {
      return use(target);
    } finally {
      this.expanding.delete(target);
    }
  }

  private scalar(raw: unknown, type: string | undefined, tag: string | undefined): GoValue {
    const text = raw === null || raw === undefined ? '' : String(raw);
    if (tag === undefined) return type === 'PLAIN' ? resolvePlainScalar(text) : goString(text);
    if (tag.startsWith(YAML_TAG_PREFIX)) {
      const short = tag.slice(YAML_TAG_PREFIX.length);
      try {
        return resolveTaggedScalar(short, text);
      } catch (err) {
        throw new GoYamlError((err as Error).message);
      }
    }
    // The non-specific tag `!` and local tags (`!foo`): yaml.v2 keeps the text as a string.
    return goString(text);
  }

  private mapping(pairs: Array<{ key: unknown; value: unknown }>, depth: number): GoValue {
    const out = new GoMap();
    const explicit = new Set<string>();
    for (const pair of pairs) {
      const keyNode = pair.key as YamlNode | null;
      const valueNode = pair.value as YamlNode | null;
      if (isMergeKey(keyNode)) {
        this.merge(valueNode, out, depth);
        continue;
      }
      const key = this.node(keyNode, depth + 1);
      if (key.kind === 'map' || key.kind === 'seq') throw new GoYamlError('invalid map key');
      const id = GoMap.keyId(key);
      if (explicit.has(id)) throw new GoYamlError('duplicate map key');
      explicit.add(id);
      out.set(key, this.node(valueNode, depth + 1));
    }
    return { kind: 'map', entries: out.entries() };
  }

  /** yaml.v2 `merge`: a mapping, an alias of one, or a sequence of them (earlier ones win). */
  private merge(node: YamlNode | null, out: GoMap, depth: number): void {
    const mergeOne = (n: YamlNode | null) => {
      const value = isAlias(n)
        ? this.alias(n, depth, (target) => {
            if (!isMap(target)) throw new GoYamlError('merge value is not a mapping');
            return this.node(target, depth + 1);
          })
        : isMap(n)
          ? this.node(n, depth + 1)
          : undefined;
      if (value?.kind !== 'map') throw new GoYamlError('merge value is not a mapping');
      for (const [k, v] of value.entries) out.set(k, v);
    };
    if (isSeq(node)) {
      for (let i = node.items.length - 1; i >= 0; i--) mergeOne(node.items[i] as YamlNode);
    } else {
      mergeOne(node);
    }
  }
}

function isMergeKey(node: YamlNode | null): boolean {
  return (
    isScalar(node) &&
    node.value === '<<' &&
    ((node.type === 'PLAIN' && node.tag === undefined) || node.tag === `${YAML_TAG_PREFIX}merge`)
  );
}

/** A Go `map[interface{}]interface{}`: keys compare by Go value (so `1` and `0x1` are the same key). */
class GoMap {
  private readonly map = new Map<string, readonly [GoValue, GoValue]>();
  private static nanKeys = 0;

  static keyId(k: GoValue): string {
    switch (k.kind) {
      case 'float':
        // NaN is never equal to itself in Go, so every NaN key is a new key; -0 == 0.
        return Number.isNaN(k.value) ? `nan:${GoMap.nanKeys++}` : `float:${String(k.value)}`;
      case 'null':
        return 'null';
      default:
        return `${k.kind}:${mapKeyToGoString(k)}`;
    }
  }

  set(k: GoValue, v: GoValue): void {
    this.map.set(GoMap.keyId(k), [k, v]);
  }

  entries(): Array<readonly [GoValue, GoValue]> {
    return [...this.map.values()];
  }
}
