package database

// schemaVersion is stored in pillars_seed when a file is seeded. A file seeded by another
// version is refused rather than silently read with the wrong schema.
const schemaVersion = 1

// sqliteSchema creates the tables. Times are unix seconds (UTC) in INTEGER columns: compact,
// sortable and free of the driver's time-string conventions. Money is integer cents.
const sqliteSchema = `
CREATE TABLE users (
	id         INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL,
	email      TEXT    NOT NULL,
	tier       TEXT    NOT NULL CHECK (tier IN ('standard', 'silver', 'gold')),
	created_at INTEGER NOT NULL
);

CREATE TABLE products (
	id          INTEGER PRIMARY KEY,
	sku         TEXT    NOT NULL,
	name        TEXT    NOT NULL,
	category    TEXT    NOT NULL,
	price_cents INTEGER NOT NULL CHECK (price_cents > 0)
);

CREATE TABLE warehouses (
	id   INTEGER PRIMARY KEY,
	name TEXT    NOT NULL
);

CREATE TABLE inventory (
	product_id   INTEGER NOT NULL REFERENCES products (id),
	warehouse_id INTEGER NOT NULL REFERENCES warehouses (id),
	quantity     INTEGER NOT NULL CHECK (quantity >= 0),
	PRIMARY KEY (product_id, warehouse_id)
) WITHOUT ROWID;

CREATE TABLE orders (
	id          INTEGER PRIMARY KEY,
	user_id     INTEGER NOT NULL REFERENCES users (id),
	product_id  INTEGER NOT NULL REFERENCES products (id),
	quantity    INTEGER NOT NULL CHECK (quantity > 0),
	total_cents INTEGER NOT NULL CHECK (total_cents > 0),
	created_at  INTEGER NOT NULL
);

CREATE TABLE pillars_seed (
	version   INTEGER NOT NULL,
	seed      INTEGER NOT NULL
);
`

// postgresSchema is the same schema in PostgreSQL's types. integer is four bytes there: every
// id fits (see ids.Max) and so does an order's total (at most five of the dearest product, about
// 12 500 dollars), whose sums are bigint; times are bigint, past 2038.
const postgresSchema = `
CREATE TABLE users (
	id         integer PRIMARY KEY,
	name       text    NOT NULL,
	email      text    NOT NULL,
	tier       text    NOT NULL CHECK (tier IN ('standard', 'silver', 'gold')),
	created_at bigint  NOT NULL
);

CREATE TABLE products (
	id          integer PRIMARY KEY,
	sku         text    NOT NULL,
	name        text    NOT NULL,
	category    text    NOT NULL,
	price_cents integer NOT NULL CHECK (price_cents > 0)
);

CREATE TABLE warehouses (
	id   integer PRIMARY KEY,
	name text    NOT NULL
);

CREATE TABLE inventory (
	product_id   integer NOT NULL REFERENCES products (id),
	warehouse_id integer NOT NULL REFERENCES warehouses (id),
	quantity     integer NOT NULL CHECK (quantity >= 0),
	PRIMARY KEY (product_id, warehouse_id)
);

CREATE TABLE orders (
	id          integer PRIMARY KEY,
	user_id     integer NOT NULL REFERENCES users (id),
	product_id  integer NOT NULL REFERENCES products (id),
	quantity    integer NOT NULL CHECK (quantity > 0),
	total_cents integer NOT NULL CHECK (total_cents > 0),
	created_at  bigint  NOT NULL
);

CREATE TABLE pillars_seed (
	version   integer NOT NULL,
	seed      bigint  NOT NULL
);
`

// indexes are created after the seed rows are in: building an index in one pass is much
// cheaper than updating it row by row (seconds saved under the race detector). The same
// statements serve both stores. Besides the unique keys, they are the ones the service's
// statements need (see statements.go):
//   - orders_user serves a user's order summary and user_orders (newest first);
//   - orders_product covers top_products, so it never reads the orders table itself;
//   - products_category covers category_summary;
//   - inventory_quantity serves low_stock.
const indexes = `
CREATE UNIQUE INDEX users_email ON users (email);
CREATE UNIQUE INDEX products_sku ON products (sku);
CREATE UNIQUE INDEX warehouses_name ON warehouses (name);
CREATE INDEX products_category ON products (category, price_cents);
CREATE INDEX inventory_quantity ON inventory (quantity);
CREATE INDEX orders_user ON orders (user_id, created_at);
CREATE INDEX orders_product ON orders (product_id, quantity, total_cents);
`

// sizedTables are the tables whose size database_table_size_bytes reports: the label values
// are this fixed list, never names read from the database.
var sizedTables = []string{"users", "products", "warehouses", "inventory", "orders"}
