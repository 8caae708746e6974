/**
 * Qualifies tenant tables with the active tenant's schema and temporary tables with `pg_temp`,
 * leaving shared tables, search-path tables, CTE names and explicitly qualified tables alone.
 *
 * @module
 */
import {
  type AggregateFunctionNode,
  AliasNode,
  type CreateTableNode,
  type CreateViewNode,
  type FunctionNode,
  type IdentifierNode,
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
import type { TenantScope } from '../context.js';
import { QUALIFIED_MARK } from '../pg/search-path.js';
import type { TemporaryTables } from './temporary-tables.js';

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

/**
 * Marks the schema nodes this plugin wrote. A subquery built on its own (`db.selectFrom(…)`
 * inside another query) went through the plugin before its outer statement did; its
 * qualification is provisional and decided again, for the scope active then, when the outer
 * statement goes through the plugin. Kysely's transformers keep identifier nodes as they are, so
 * the mark stays; a symbol key is invisible to Kysely and costs the garbage collector nothing
 * (a WeakSet of one node per query would), and `Symbol.for` lets two copies of tenantry agree. A
 * schema anyone else wrote (the query, `withSchema`) is explicit and stays.
 */
const PROVISIONAL = Symbol.for('tenantry.kysely.provisionalSchema');

function provisional(schema: string): IdentifierNode {
  return Object.freeze({ kind: 'IdentifierNode', name: schema, [PROVISIONAL]: true }) as IdentifierNode;
}

const PG_TEMP = provisional('pg_temp');

/** Whether a table named with this schema node is for the plugin to qualify. */
function bare(schema: IdentifierNode | undefined): boolean {
  return schema === undefined || (schema as { [PROVISIONAL]?: boolean })[PROVISIONAL] === true;
}

/** `modifyFront(sql\`temporary\`)` and its spellings: what `create … table` takes before `table`. */
const TEMPORARY_KEYWORD = /^\s*(?:(?:global|local)\s+)?temp(?:orary)?\s*$/i;

/** Whether a `create table` or `create view` makes a temporary relation. */
function createsTemporary(node: CreateTableNode | CreateViewNode): boolean {
  if (node.temporary === true) return true;
  const front = (node as { frontModifiers?: readonly OperationNode[] }).frontModifiers ?? [];
  return front.some((modifier) => RawNode.is(modifier) && TEMPORARY_KEYWORD.test(fixedText(modifier) ?? ''));
}

/** The relation a `create`/`drop` of a table or view creates or drops. */
function subjectOf(node: AnyNode): SchemableIdentifierNode | undefined {
  switch (node.kind) {
    case 'CreateTableNode':
    case 'DropTableNode':
      return (node.table as TableNode).table;
    case 'CreateViewNode':
    case 'DropViewNode':
      return node.name as SchemableIdentifierNode;
    default:
      return undefined;
  }
}

/**
 * What the transformers of one plugin know, the same for every query: where the active scope
 * comes from and the tenant schema of a scope, and which names are shared tables, left to the
 * search_path (and to a schema a later plugin writes), or temporary tables. Every other name is
 * a tenant table.
 *
 * @example
 * ```ts
 * import { TemporaryTables } from './temporary-tables.js';
 * const rules: TableRules = {
 *   scope: () => tenancy.scope(),
 *   schemaOf: (scope) => (scope?.kind === 'tenant' ? scope.tenant.schema : 'none'),
 *   shared: new Set(['plans']),
 *   searchPath: new Set(['kysely_migration']),
 *   temporary: new TemporaryTables([]),
 * };
 * ```
 */
export interface TableRules {
  /** The active scope; a transformer asks once, and only if a name needs it. */
  readonly scope: () => TenantScope | undefined;
  /** The schema of the scope's tenant; throws (NoTenantError) when the scope has none. */
  readonly schemaOf: (scope: TenantScope | undefined) => string;
  readonly shared: ReadonlySet<string>;
  readonly searchPath: ReadonlySet<string>;
  readonly temporary: TemporaryTables;
}

/** Functions whose table arguments name a row variable (`json_agg(p)`), never a schema-qualified table. */
const ROW_FUNCTIONS = new Set(['json_agg', 'to_json', 'row_to_json', 'jsonb_agg', 'to_jsonb']);

type AnyNode = OperationNode & Record<string, unknown>;

/**
 * The transformer of one query. The tenant's schema is asked for only when a tenant table is
 * found, so a query of shared, search-path and temporary tables alone needs no tenant.
 *
 * @example
 * ```ts
 * declare const rules: TableRules;
 * declare const query: import('kysely').CompiledQuery;
 * const transformer = new TenantTransformer(rules);
 * transformer.transformNode(query.query);
 * transformer.needsTenantPath; // false: every table is qualified (or shared), no raw SQL
 * ```
 */
export class TenantTransformer extends OperationNodeTransformer {
  readonly #rules: TableRules;
  /** The active scope, once read (`null` until then). */
  #scope: TenantScope | undefined | null = null;
  #schemaNode: IdentifierNode | undefined;
  /** The unqualified tables of the open statements: tenant and temporary tables. */
  readonly #tables = new Set<string>();
  readonly #ctes = new Set<string>();
  /** The CTE names each open statement added, innermost last. */
  readonly #statementCtes: ReadonlySet<string>[] = [];
  #sawRaw = false;
  #sawSearchPathTable = false;
  /** Temporary tables this query creates; names it creates as permanent tables; temporary tables it drops. */
  #created: Set<string> | undefined;
  #madePermanent: Set<string> | undefined;
  #dropped: Set<string> | undefined;

  constructor(rules: TableRules) {
    super();
    this.#rules = rules;
  }

  /** The scope active when the query went through the plugin. */
  get scope(): TenantScope | undefined {
    if (this.#scope === null) this.#scope = this.#rules.scope();
    return this.#scope;
  }

  protected override transformNodeImpl<T extends OperationNode>(node: T, queryId?: QueryId): T {
    if (!SCOPE_NODES.has(node.kind)) return super.transformNodeImpl(node, queryId);
    return this.#withoutMark(this.#transformStatement(node, queryId));
  }

  #transformStatement<T extends OperationNode>(node: T, queryId?: QueryId): T {
    this.#noteSubject(node as unknown as AnyNode);
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
   * A `create temporary table` (or view) makes its name temporary for the rest of the query, and
   * of the run; a plain `create` of that name makes it the tenant's again; a `drop` forgets it
   * once the query is done (the drop itself still names `pg_temp`).
   */
  #noteSubject(node: AnyNode): void {
    const subject = subjectOf(node);
    if (subject === undefined || !(bare(subject.schema) || subject.schema?.name === 'pg_temp')) return;
    const name = subject.identifier.name;
    if (node.kind === 'CreateTableNode' || node.kind === 'CreateViewNode') {
      if (createsTemporary(node as unknown as CreateTableNode | CreateViewNode)) {
        (this.#created ??= new Set()).add(name);
      } else if (this.#isTemporary(name)) {
        (this.#madePermanent ??= new Set()).add(name);
      }
    } else if (this.#isTemporary(name)) {
      (this.#dropped ??= new Set()).add(name);
    }
  }

  /** The temporary tables this query created (the plugin remembers them for the run). */
  get createdTemporary(): readonly string[] {
    return [...(this.#created ?? [])];
  }

  /** The temporary tables this query dropped, or created again as permanent ones (the plugin forgets them). */
  get droppedTemporary(): readonly string[] {
    return [...(this.#dropped ?? []), ...(this.#madePermanent ?? [])];
  }

  /** Whether the query created or dropped a temporary table, which the plugin then remembers or forgets. */
  get changedTemporary(): boolean {
    return this.#created !== undefined || this.#dropped !== undefined || this.#madePermanent !== undefined;
  }

  /**
   * Whether the statement needs the tenant's search_path: it holds raw SQL (`sql` fragments,
   * `sql.table`, `modifyEnd`…), which no transformer can qualify, or names a search-path table
   * without a schema. Kysely's own keyword fragments do not count.
   */
  get needsTenantPath(): boolean {
    return this.#sawRaw || this.#sawSearchPathTable;
  }

  /** A temporary relation is created as written: PostgreSQL puts it in pg_temp, and refuses any other schema. */
  protected override transformCreateTable(node: CreateTableNode, queryId?: QueryId): CreateTableNode {
    const transformed = super.transformCreateTable(node, queryId);
    return createsTemporary(node) ? { ...transformed, table: node.table } : transformed;
  }

  protected override transformCreateView(node: CreateViewNode, queryId?: QueryId): CreateViewNode {
    const transformed = super.transformCreateView(node, queryId);
    return createsTemporary(node) ? { ...transformed, name: node.name } : transformed;
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
    if (!bare(transformed.schema) || !this.#tables.has(name) || this.#ctes.has(name)) return transformed;
    return { ...transformed, schema: this.#schemaFor(name) };
  }

  protected override transformReferences(node: ReferencesNode, queryId?: QueryId): ReferencesNode {
    const transformed = super.transformReferences(node, queryId);
    const table = transformed.table.table;
    if (!bare(table.schema) || !this.#qualifies(table.identifier.name)) return transformed;
    return { ...transformed, table: { ...transformed.table, table: { ...table, schema: this.#schemaFor(table.identifier.name) } } };
  }

  /** `pg_temp` for a temporary table, else the tenant's schema (asked for once per query). */
  #schemaFor(name: string): IdentifierNode {
    if (this.#isTemporary(name)) return PG_TEMP;
    return (this.#schemaNode ??= provisional(this.#rules.schemaOf(this.scope)));
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

  #isTemporary(name: string): boolean {
    if (this.#created?.has(name) === true) return true;
    if (this.#madePermanent?.has(name) === true) return false;
    const temporary = this.#rules.temporary;
    return temporary.mayHave(name) && temporary.has(name, this.scope);
  }

  /** Whether an unqualified name is the plugin's to qualify: a tenant or temporary table, not a CTE. */
  #qualifies(name: string): boolean {
    if (this.#ctes.has(name)) return false;
    if (this.#isTemporary(name)) return true;
    if (this.#rules.searchPath.has(name)) {
      this.#sawSearchPathTable = true;
      return false;
    }
    return !this.#rules.shared.has(name);
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

  /** The unqualified tenant and temporary tables a statement names in FROM, INTO, UPDATE, JOIN, USING or as its subject. */
  #tableNames(node: AnyNode): string[] {
    const names: string[] = [];
    const visit = (expression: unknown): void => {
      if (expression === undefined || expression === null) return;
      const item = expression as OperationNode;
      if (TableNode.is(item)) {
        if (bare(item.table.schema) && this.#qualifies(item.table.identifier.name)) names.push(item.table.identifier.name);
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
        if (bare(identifier.schema) && this.#qualifies(identifier.identifier.name)) names.push(identifier.identifier.name);
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
