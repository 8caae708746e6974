/**
 * The inventory's tables as Kysely sees them, written from the SQL migrations in ./migrations.
 *
 * Every table but `plans` lives in each business's own schema; `plans` lives in the shared
 * schema (see {@link SHARED_TABLES}).
 *
 * @module
 */
import type { ColumnType, Generated, Kysely } from 'kysely';

/** A column the database fills in (a default, a trigger) and the app only reads. */
type ReadOnly<T> = ColumnType<T, never, never>;

/** Shared: the plans a business can be on (migrations/shared/001_plans.sql). */
export interface PlanTable {
  id: string;
  name: string;
  max_products: number;
}

export interface CategoryTable {
  id: Generated<number>;
  name: string;
}

export interface ProductTable {
  id: Generated<number>;
  /** Unique within the business (its own schema has its own unique index). */
  sku: string;
  name: string;
  category_id: number | null;
  unit_price_cents: number;
  /** Changed only by stock movements (a trigger); `CHECK (stock >= 0)`. */
  stock: ReadOnly<number>;
  low_stock_threshold: Generated<number>;
}

export interface StockMovementTable {
  id: Generated<number>;
  product_id: number;
  kind: 'in' | 'out' | 'adjustment';
  quantity: number;
  note: string | null;
  created_at: Generated<Date>;
}

export interface UserTable {
  id: Generated<number>;
  email: string;
  name: string;
  password_hash: string;
  /** `owner` or `staff` (migrations/tenant/006_user_roles.sql). */
  role: Generated<'owner' | 'staff'>;
  created_at: Generated<Date>;
}

export interface SessionTable {
  token_hash: string;
  user_id: number;
  csrf_token: string;
  created_at: Generated<Date>;
  expires_at: Date;
}

export interface SessionHandoffTable {
  code_hash: string;
  user_id: number;
  expires_at: Date;
}

export interface SettingsTable {
  id: Generated<boolean>;
  invite_code: string;
}

/** A low-stock digest the daily job wrote (migrations/tenant/007_low_stock_digests.sql). */
export interface LowStockDigestTable {
  id: Generated<number>;
  created_at: Generated<Date>;
  item_count: number;
  /** JSON: the products that were low, emptiest first. */
  items: ColumnType<unknown, string, never>;
}

/** Every table the app queries. */
export interface Database {
  plans: PlanTable;
  categories: CategoryTable;
  products: ProductTable;
  stock_movements: StockMovementTable;
  users: UserTable;
  sessions: SessionTable;
  session_handoffs: SessionHandoffTable;
  settings: SettingsTable;
  low_stock_digests: LowStockDigestTable;
}

/** Tables of the shared schema: tenantPlugin leaves them unqualified. */
export const SHARED_TABLES = ['plans'] as const;

/** The app's Kysely instance (tenant tables are qualified with the active business's schema). */
export type Db = Kysely<Database>;
