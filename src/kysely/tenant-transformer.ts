/**
 * Qualifies tenant tables with the active tenant's schema, leaving shared tables, CTE names
 * and already-qualified tables alone.
 *
 * @module
 */
import {
  type AggregateFunctionNode,
  AliasNode,
  type FunctionNode,
  IdentifierNode,
  JoinNode,
  ListNode,
  type OperationNode,
  OperationNodeTransformer,
  type QueryId,
  RawNode,
  type ReferencesNode,
  type SchemableIdentifierNode,
  type SelectModifierNode,
  TableNode,
  UsingNode,
  ValueNode,
  type WithNode,
} from 'kysely';
import { QUALIFIED_MARK } from '../pg/search-path.js';

/** Nodes that open a new scope of table names (a statement, or a subquery of one). */
const SCOPE_NODES = new Set([
  'SelectQueryNode',
  'InsertQueryNode',
  'UpdateQueryNode',
  'DeleteQueryNode',
  'MergeQueryNode',
  'CreateTableNode',
  'AlterTableNode',
  'DropTableNode',
  'CreateIndexNode',
  'DropIndexNode',
  'CreateViewNode',
  'DropViewNode',
  'RefreshMaterializedViewNode',
]);

/**
 * Raw nodes Kysely itself writes for keywords (`orderBy(…, 'desc')`, `onTrue()`, merge's
 * `thenDelete()` and `thenDoNothing()`): nothing in them resolves through the search_path.
 */
const KEYWORDS = new Set(['asc', 'desc', 'true', 'delete', 'do nothing']);

/** The text of a raw node that is one fixed fragment (no parameters), else `undefined`. */
function fixedText(node: RawNode): string | undefined {
  return node.parameters.length === 0 && node.sqlFragments.length === 1 ? node.sqlFragments[0] : undefined;
}

/**
 * A raw node that holds values and no SQL text (`sql.val(x)`, `sql.lit(1)`, `` sql`${x}` ``):
 * nothing in it resolves through the search_path. Identifiers (`sql.id`, `sql.ref`,
 * `sql.table`) are not values: they count as raw SQL.
 */
function isValueOnly(node: RawNode): boolean {
  return node.sqlFragments.every((fragment) => fragment === '') && node.parameters.every((parameter) => ValueNode.is(parameter));
}

/** Whether a node is the mark tenantPlugin ends fully qualified statements with. */
function isMark(node: OperationNode): boolean {
  return RawNode.is(node) && fixedText(node) === QUALIFIED_MARK;
}

/** Functions whose table arguments name a row variable (`json_agg(p)`), never a schema-qualified table. */
const ROW_FUNCTIONS = new Set(['json_agg', 'to_json', 'row_to_json', 'jsonb_agg', 'to_jsonb']);

type AnyNode = OperationNode & Record<string, unknown>;

/**
 * The transformer of one query. `schema()` is called only when a tenant table is found, so a
 * query of shared tables alone needs no tenant.
 *
 * @example
 * ```ts
 * const transformer = new TenantTransformer(() => 'tenant_acme', new Set(['plans']));
 * transformer.transformNode(query.node);
 * ```
 */
export class TenantTransformer extends OperationNodeTransformer {
  readonly #schema: () => string;
  readonly #shared: ReadonlySet<string>;
  readonly #tables = new Set<string>();
  readonly #ctes = new Set<string>();
  /** The CTE names each open statement added, innermost last. */
  readonly #statementCtes: ReadonlySet<string>[] = [];
  #sawRaw = false;

  constructor(schema: () => string, shared: ReadonlySet<string>) {
    super();
    this.#schema = schema;
    this.#shared = shared;
  }

  protected override transformNodeImpl<T extends OperationNode>(node: T, queryId?: QueryId): T {
    if (!SCOPE_NODES.has(node.kind)) return super.transformNodeImpl(node, queryId);
    return this.#withoutMark(this.#transformStatement(node, queryId));
  }

  #transformStatement<T extends OperationNode>(node: T, queryId?: QueryId): T {
    const ctes = this.#newNames(this.#cteNames(node as unknown as AnyNode), this.#ctes);
    for (const name of ctes) this.#ctes.add(name);
    const tables = this.#newNames(this.#tableNames(node as unknown as AnyNode), this.#tables);
    for (const name of tables) this.#tables.add(name);
    this.#statementCtes.push(ctes);
    try {
      return super.transformNodeImpl(node, queryId);
    } finally {
      this.#statementCtes.pop();
      for (const name of tables) this.#tables.delete(name);
      for (const name of ctes) this.#ctes.delete(name);
    }
  }

  /**
   * CTE names are never qualified. Without RECURSIVE a CTE's body sees only the CTEs listed
   * before it, so there its own name (and later ones) still mean tables:
   * `with products as (select … from products)` reads the tenant's `products`.
   */
  protected override transformWith(node: WithNode, queryId?: QueryId): WithNode {
    const added = this.#statementCtes.at(-1) ?? new Set<string>();
    const names = node.expressions.map((expression) => expression.name.table.table.identifier.name);
    const expressions = node.expressions.map((expression, index) => {
      const hidden = node.recursive ? [] : names.slice(index).filter((name) => added.has(name));
      for (const name of hidden) this.#ctes.delete(name);
      try {
        return { ...expression, expression: this.transformNode(expression.expression, queryId) };
      } finally {
        for (const name of hidden) this.#ctes.add(name);
      }
    });
    return { ...node, expressions };
  }

  /**
   * Whether the query holds raw SQL (`sql` fragments, `sql.table`, `modifyEnd`…), which no
   * transformer can qualify; Kysely's own keyword fragments do not count.
   */
  get sawRaw(): boolean {
    return this.#sawRaw;
  }

  protected override transformRaw(node: RawNode, queryId?: QueryId): RawNode {
    if (!isValueOnly(node)) {
      const text = fixedText(node);
      if (text === undefined || (!KEYWORDS.has(text) && text !== QUALIFIED_MARK)) this.#sawRaw = true;
    }
    return super.transformRaw(node, queryId);
  }

  /**
   * A statement without the mark: a subquery built on its own (`db.selectFrom(…)` inside another
   * query) went through the plugin, and got the mark, before its outer statement did; only the
   * outermost statement may end with it.
   */
  #withoutMark<T extends OperationNode>(node: T): T {
    const ends = (node as { endModifiers?: readonly OperationNode[] }).endModifiers;
    if (ends === undefined || !ends.some(isMark)) return node;
    return { ...node, endModifiers: ends.filter((end) => !isMark(end)) };
  }

  protected override transformSchemableIdentifier(node: SchemableIdentifierNode, queryId?: QueryId): SchemableIdentifierNode {
    const transformed = super.transformSchemableIdentifier(node, queryId);
    const name = transformed.identifier.name;
    // A CTE in scope takes the name over, even from a tenant table an outer statement reads.
    if (transformed.schema !== undefined || !this.#tables.has(name) || this.#ctes.has(name)) return transformed;
    return { ...transformed, schema: IdentifierNode.create(this.#schema()) };
  }

  protected override transformReferences(node: ReferencesNode, queryId?: QueryId): ReferencesNode {
    const transformed = super.transformReferences(node, queryId);
    const table = transformed.table.table;
    if (table.schema !== undefined || !this.#isTenantTable(table.identifier.name)) return transformed;
    return { ...transformed, table: TableNode.createWithSchema(this.#schema(), table.identifier.name) };
  }

  protected override transformFunction(node: FunctionNode, queryId?: QueryId): FunctionNode {
    if (!ROW_FUNCTIONS.has(node.func)) return super.transformFunction(node, queryId);
    return { ...super.transformFunction({ ...node, arguments: [] }, queryId), arguments: this.#rowArguments(node.arguments, queryId) };
  }

  protected override transformAggregateFunction(node: AggregateFunctionNode, queryId?: QueryId): AggregateFunctionNode {
    if (!ROW_FUNCTIONS.has(node.func)) return super.transformAggregateFunction(node, queryId);
    return {
      ...super.transformAggregateFunction({ ...node, aggregated: [] }, queryId),
      aggregated: this.#rowArguments(node.aggregated, queryId),
    };
  }

  protected override transformSelectModifier(node: SelectModifierNode, queryId?: QueryId): SelectModifierNode {
    const { of, ...rest } = node;
    if (of === undefined) return super.transformSelectModifier(node, queryId);
    return { ...super.transformSelectModifier(rest, queryId), of: this.#rowArguments(of, queryId) };
  }

  /** Table arguments that name a row (`json_agg(p)`, `FOR UPDATE OF p`) stay unqualified; others are transformed. */
  #rowArguments<T extends OperationNode>(items: readonly T[], queryId?: QueryId): readonly T[] {
    return items.map((item) => (TableNode.is(item) && item.table.schema === undefined ? item : this.transformNode(item, queryId)));
  }

  #isTenantTable(name: string): boolean {
    return !this.#shared.has(name) && !this.#ctes.has(name);
  }

  #newNames(names: Iterable<string>, known: ReadonlySet<string>): Set<string> {
    const fresh = new Set<string>();
    for (const name of names) if (!known.has(name)) fresh.add(name);
    return fresh;
  }

  #cteNames(node: AnyNode): string[] {
    const withNode = node.with as { expressions: readonly { name: { table: TableNode } }[] } | undefined;
    return withNode?.expressions.map((expression) => expression.name.table.table.identifier.name) ?? [];
  }

  /** The unqualified tenant tables a statement names in FROM, INTO, UPDATE, JOIN, USING or as its subject. */
  #tableNames(node: AnyNode): string[] {
    const names: string[] = [];
    const visit = (expression: unknown): void => {
      if (expression === undefined || expression === null) return;
      const item = expression as OperationNode;
      if (TableNode.is(item)) {
        if (item.table.schema === undefined && this.#isTenantTable(item.table.identifier.name)) names.push(item.table.identifier.name);
      } else if (AliasNode.is(item)) {
        visit(item.node);
      } else if (ListNode.is(item)) {
        item.items.forEach(visit);
      } else if (UsingNode.is(item)) {
        item.tables.forEach(visit);
      } else if (JoinNode.is(item)) {
        visit(item.table);
      } else if (item.kind === 'SchemableIdentifierNode') {
        const identifier = item as SchemableIdentifierNode;
        if (identifier.schema === undefined && this.#isTenantTable(identifier.identifier.name)) names.push(identifier.identifier.name);
      }
    };
    const from = node.from as { froms: readonly OperationNode[] } | undefined;
    from?.froms.forEach(visit);
    visit(node.into);
    visit(node.table);
    visit(node.name);
    (node.joins as readonly OperationNode[] | undefined)?.forEach(visit);
    visit(node.using);
    return names;
  }
}
