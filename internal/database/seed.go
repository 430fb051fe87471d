package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// The seed: a fixed PCG seed makes every fresh database identical, in SQLite as in PostgreSQL,
// so user 123 is the same person on every machine and in every test.
const (
	seedValue  = 0x9111a75
	seedOrders = 20000
)

var (
	seedFirstNames = []string{"Ada", "Alan", "Barbara", "Claude", "Dennis", "Donald", "Edsger",
		"Frances", "Grace", "Guido", "Hedy", "Ivan", "John", "Ken", "Leslie", "Linus", "Margaret",
		"Niklaus", "Radia", "Rob", "Robin", "Sophie", "Tim", "Tony", "Ursula", "Vint", "Whitfield",
		"Yukihiro", "Kathleen", "Lynn", "Shafi", "Mary", "Jean", "Katherine", "Annie", "Brian", "Bjarne",
		"Carol", "Dorothy", "Evelyn"}
	seedLastNames = []string{"Lovelace", "Turing", "Liskov", "Shannon", "Ritchie", "Knuth",
		"Dijkstra", "Allen", "Hopper", "van Rossum", "Lamarr", "Sutherland", "McCarthy", "Thompson",
		"Lamport", "Torvalds", "Hamilton", "Wirth", "Perlman", "Pike", "Milner", "Wilson",
		"Berners-Lee", "Hoare", "Franklin", "Cerf", "Diffie", "Matsumoto", "Conway", "Goldwasser",
		"Keller", "Sammet", "Johnson", "Easley", "Kernighan", "Stroustrup", "Shaw", "Vaughan",
		"Boyd", "Cooper"}
	seedCategories = []string{"books", "electronics", "garden", "grocery", "home", "sports",
		"toys", "beauty"}
	seedAdjectives = []string{"Classic", "Compact", "Deluxe", "Eco", "Essential", "Everyday",
		"Heavy-Duty", "Light", "Modern", "Portable", "Premium", "Pro", "Rugged", "Smart", "Solid",
		"Sturdy", "Travel", "Ultra", "Vintage", "Wireless"}
	seedNouns = map[string][]string{
		"books":       {"Cookbook", "Novel", "Atlas", "Field Guide", "Anthology"},
		"electronics": {"Headphones", "Charger", "Speaker", "Keyboard", "Monitor"},
		"garden":      {"Trowel", "Hose", "Planter", "Pruner", "Seed Kit"},
		"grocery":     {"Coffee", "Olive Oil", "Tea", "Honey", "Granola"},
		"home":        {"Lamp", "Blanket", "Kettle", "Mug Set", "Cushion"},
		"sports":      {"Yoga Mat", "Water Bottle", "Jump Rope", "Helmet", "Backpack"},
		"toys":        {"Puzzle", "Kite", "Robot Kit", "Board Game", "Building Set"},
		"beauty":      {"Shampoo", "Face Cream", "Soap", "Lip Balm", "Hand Lotion"},
	}
	seedWarehouses = []string{"Amsterdam", "Chicago", "Singapore", "Sydney"}

	// Users and orders are dated in [seedEpoch, seedEnd): fixed, so reseeding next year gives
	// the same data.
	seedEpoch = time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	seedEnd   = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
)

// ensureSeeded gives a new database its schema and data in one transaction, and leaves an
// already seeded one alone. It reports whether it seeded. The store's seeding lock is taken
// before looking, so two processes starting on one new database cannot both seed it.
func ensureSeeded(ctx context.Context, db *sql.DB, st store) (seeded bool, err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("database: connect: %w", err)
	}
	defer conn.Close()
	if err := st.beginSeeding(ctx, conn); err != nil {
		return false, fmt.Errorf("database: begin seeding: %w", err)
	}
	defer func() {
		end := "COMMIT"
		if err != nil || !seeded {
			end = "ROLLBACK"
		}
		if _, endErr := conn.ExecContext(context.WithoutCancel(ctx), end); endErr != nil && err == nil {
			seeded, err = false, fmt.Errorf("database: %s seed: %w", strings.ToLower(end), endErr)
		}
	}()

	version, err := seededVersion(ctx, conn, st)
	switch {
	case err != nil:
		return false, err
	case version == schemaVersion:
		return false, nil
	case version != 0:
		return false, fmt.Errorf("database: the database was seeded with schema version %d, this build has %d: move it away (or drop it) to start afresh", version, schemaVersion)
	}
	if _, err := conn.ExecContext(ctx, st.schema()); err != nil {
		return false, fmt.Errorf("database: create schema: %w", err)
	}
	if err := seed(ctx, conn, st); err != nil {
		return false, fmt.Errorf("database: seed: %w", err)
	}
	if _, err := conn.ExecContext(ctx, st.indexes()); err != nil {
		return false, fmt.Errorf("database: create indexes: %w", err)
	}
	if _, err := conn.ExecContext(ctx, st.rebind("INSERT INTO pillars_seed (version, seed) VALUES (?, ?)"), schemaVersion, seedValue); err != nil {
		return false, fmt.Errorf("database: mark seeded: %w", err)
	}
	return true, nil
}

// seededVersion returns the schema version the database was seeded with, 0 if never seeded.
func seededVersion(ctx context.Context, conn *sql.Conn, st store) (int, error) {
	exists, err := st.seedTableExists(ctx, conn)
	if err != nil || !exists {
		return 0, wrapErr("read schema", err)
	}
	var v int
	err = conn.QueryRowContext(ctx, "SELECT version FROM pillars_seed LIMIT 1").Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return v, wrapErr("read seed version", err)
}

func wrapErr(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("database: %s: %w", what, err)
}

// seed inserts every row. Parents go first so that the foreign keys hold at each insert.
func seed(ctx context.Context, conn *sql.Conn, st store) error {
	r := rand.New(rand.NewPCG(seedValue, seedValue^0x5eed))

	userCreated := make([]int64, MaxUserID+1)
	err := insertRows(ctx, conn, st, "users", []string{"id", "name", "email", "tier", "created_at"}, MaxUserID,
		func(i int, row []any) {
			id := i + 1
			first, last := pick(r, seedFirstNames), pick(r, seedLastNames)
			userCreated[id] = seedEpoch + r.Int64N(seedEnd-seedEpoch)
			row[0] = id
			row[1] = first + " " + last
			row[2] = emailOf(first, last, id)
			row[3] = tierOf(r)
			row[4] = userCreated[id]
		})
	if err != nil {
		return err
	}

	prices := make([]int64, MaxProductID+1)
	err = insertRows(ctx, conn, st, "products", []string{"id", "sku", "name", "category", "price_cents"}, MaxProductID,
		func(i int, row []any) {
			id := i + 1
			cat := pick(r, seedCategories)
			// Mostly everyday prices with a long tail of expensive items, as shops have.
			prices[id] = 199 + int64(math.Min(r.ExpFloat64()*3500, 250000))
			row[0] = id
			row[1] = "SKU-" + pad5(id)
			row[2] = pick(r, seedAdjectives) + " " + pick(r, seedNouns[cat])
			row[3] = cat
			row[4] = prices[id]
		})
	if err != nil {
		return err
	}

	err = insertRows(ctx, conn, st, "warehouses", []string{"id", "name"}, len(seedWarehouses),
		func(i int, row []any) { row[0], row[1] = i+1, seedWarehouses[i] })
	if err != nil {
		return err
	}

	nw := len(seedWarehouses)
	err = insertRows(ctx, conn, st, "inventory", []string{"product_id", "warehouse_id", "quantity"}, MaxProductID*nw,
		func(i int, row []any) {
			row[0], row[1], row[2] = i/nw+1, i%nw+1, stockOf(r)
		})
	if err != nil {
		return err
	}

	return insertRows(ctx, conn, st, "orders", []string{"id", "user_id", "product_id", "quantity", "total_cents", "created_at"}, seedOrders,
		func(i int, row []any) {
			// Skewed towards low ids: a few heavy buyers and best sellers, a long tail of both.
			user := 1 + int(float64(MaxUserID)*math.Pow(r.Float64(), 2))
			product := 1 + int(float64(MaxProductID)*math.Pow(r.Float64(), 1.6))
			qty := int64(1 + r.IntN(3) + r.IntN(3)) // 1..5, mostly 2-3
			row[0] = i + 1
			row[1] = user
			row[2] = product
			row[3] = qty
			row[4] = prices[product] * qty
			row[5] = userCreated[user] + r.Int64N(seedEnd-userCreated[user])
		})
}

func pick(r *rand.Rand, from []string) string { return from[r.IntN(len(from))] }

func emailOf(first, last string, id int) string {
	local := strings.ToLower(first + "." + strings.ReplaceAll(last, " ", ""))
	return local + strconv.Itoa(id) + "@example.com"
}

// tierOf: 70% standard, 20% silver, 10% gold.
func tierOf(r *rand.Rand) string {
	switch n := r.IntN(10); {
	case n < 7:
		return "standard"
	case n < 9:
		return "silver"
	}
	return "gold"
}

// stockOf: some products are sold out or low in a warehouse, so low_stock finds something.
func stockOf(r *rand.Rand) int64 {
	switch n := r.IntN(20); {
	case n < 2:
		return 0
	case n < 5:
		return 1 + r.Int64N(9)
	}
	return 10 + r.Int64N(491)
}

func pad5(n int) string {
	s := strconv.Itoa(n)
	if len(s) < 5 {
		s = strings.Repeat("0", 5-len(s)) + s
	}
	return s
}

// insertBatch rows go into one INSERT: one statement per row would cost a driver round trip
// each, and seeding must stay fast because every test starts from a fresh file.
const insertBatch = 200

// insertRows inserts n rows into table, asking fill for the values of row i.
func insertRows(ctx context.Context, conn *sql.Conn, st store, table string, cols []string, n int, fill func(i int, row []any)) error {
	width := len(cols)
	prepare := func(rows int) (*sql.Stmt, error) {
		var b strings.Builder
		b.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
		tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", width), ", ") + ")"
		for i := range rows {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(tuple)
		}
		return conn.PrepareContext(ctx, st.rebind(b.String()))
	}
	var full *sql.Stmt
	args := make([]any, insertBatch*width)
	for start := 0; start < n; start += insertBatch {
		rows := min(insertBatch, n-start)
		stmt := full
		if rows < insertBatch || full == nil {
			var err error
			if stmt, err = prepare(rows); err != nil {
				return fmt.Errorf("prepare insert into %s: %w", table, err)
			}
			if rows == insertBatch {
				full = stmt
				defer full.Close()
			} else {
				defer stmt.Close()
			}
		}
		for i := range rows {
			fill(start+i, args[i*width:(i+1)*width])
		}
		if _, err := stmt.ExecContext(ctx, args[:rows*width]...); err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
	}
	return nil
}
