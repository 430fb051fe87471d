package database

// schemaVersion is stored in pillars_seed when a file is seeded. A file seeded by another
// version is refused rather than silently read with the wrong schema.
const schemaVersion = 1

// schema creates the tables. Times are unix seconds (UTC) in INTEGER columns: compact, sortable
// and free of the driver's time-string conventions. Money is integer cents.
const schema = `
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

// indexes are created after the seed rows are in: building an index in one pass is much
// cheaper than updating it row by row (seconds saved under the race detector). Besides the
// unique keys, they are the ones the service's statements need (see statements.go):
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
// are this fixed list, never names read from the file.
var sizedTables = []string{"users", "products", "warehouses", "inventory", "orders"}
