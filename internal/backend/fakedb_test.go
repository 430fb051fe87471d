package backend

import (
	"cmp"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/pillars-o11y/pillars/internal/database"
	"github.com/pillars-o11y/pillars/internal/telemetry"
)

// fakeDB stands in for the database service: it answers with the wire types of
// internal/database (users 1..5000, products 1..1000, two named queries) and can be told to
// fail, hang or wait. TestFakeDatabaseAnswersLikeTheRealOne runs the same requests against
// it and against the real service, so the two cannot drift apart.
type fakeDB struct {
	*httptest.Server

	mu     sync.Mutex
	calls  []fakeCall
	status int           // when non-zero, every /db call answers this status with a JSON error
	hang   bool          // when set, /db calls never answer: the caller has to give up
	gate   chan struct{} // when non-nil, /db calls answer only once it is closed
}

// fakeCall is one request the fake database saw.
type fakeCall struct {
	path        string
	query       string
	traceparent string
}

func newFakeDB(t testing.TB) *fakeDB {
	t.Helper()
	f := &fakeDB{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /db/user/{id}", f.wrap(f.user))
	mux.HandleFunc("GET /db/product/{id}", f.wrap(f.product))
	mux.HandleFunc("GET /db/query", f.wrap(f.query))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		telemetry.WriteJSON(w, http.StatusOK, map[string]string{"status": "alive"})
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

// set changes the fake's behaviour under its lock.
func (f *fakeDB) set(change func(f *fakeDB)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

// seen returns the calls made so far.
func (f *fakeDB) seen() []fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeCall(nil), f.calls...)
}

func (f *fakeDB) wrap(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.calls = append(f.calls, fakeCall{path: r.URL.Path, query: r.URL.RawQuery, traceparent: r.Header.Get("traceparent")})
		status, hang, gate := f.status, f.hang, f.gate
		f.mu.Unlock()
		if hang {
			<-r.Context().Done()
			return
		}
		if gate != nil {
			select {
			case <-gate:
			case <-r.Context().Done():
				return
			}
		}
		if status != 0 {
			fakeError(w, status, "", "injected failure")
			return
		}
		h(w, r)
	}
}

// fakeError answers the database's JSON error; code "" is the status's own, as the real
// service's.
func fakeError(w http.ResponseWriter, status int, code, msg string) {
	telemetry.WriteJSON(w, status, telemetry.ErrorBody{Error: msg, Code: cmp.Or(code, telemetry.CodeOf(nil, status)), Status: status})
}

func (f *fakeDB) user(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 || id > 5000 {
		fakeError(w, http.StatusNotFound, database.CodeUserNotFound, "user "+r.PathValue("id")+" not found")
		return
	}
	telemetry.WriteJSON(w, http.StatusOK, database.User{
		ID: id, Name: "User " + strconv.FormatInt(id, 10), Email: "user" + strconv.FormatInt(id, 10) + "@example.com",
		Tier: "gold", OrderCount: 3, LifetimeSpendCents: 12345,
	})
}

// fakeProduct is product id as the fake serves it: id 13 is on clearance, every other
// product costs id dollars and 99 cents.
func fakeProduct(id int64) database.Product {
	p := database.Product{
		ID: id, SKU: "SKU-" + strconv.FormatInt(id, 10), Name: "Product " + strconv.FormatInt(id, 10),
		Category: "tools", PriceCents: id*100 + 99, Stock: 12,
		Inventory: []database.WarehouseStock{{Warehouse: "east", Quantity: 5}, {Warehouse: "west", Quantity: 7}},
	}
	if id == 13 {
		p.Category = "clearance"
	}
	return p
}

func (f *fakeDB) product(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 || id > 1000 {
		fakeError(w, http.StatusNotFound, database.CodeProductNotFound, "product "+r.PathValue("id")+" not found")
		return
	}
	telemetry.WriteJSON(w, http.StatusOK, fakeProduct(id))
}

func (f *fakeDB) query(w http.ResponseWriter, r *http.Request) {
	switch name := r.URL.Query().Get("name"); name {
	case "top_products":
		n, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		rows := make([]database.TopProduct, 0, n)
		for i := range n {
			rows = append(rows, database.TopProduct{ProductID: int64(i + 1), Name: "Product " + strconv.Itoa(i+1),
				Category: "tools", UnitsSold: int64(100 - i), RevenueCents: int64(1000 * (100 - i))})
		}
		telemetry.WriteJSON(w, http.StatusOK, database.QueryResult[database.TopProduct]{Query: name, Rows: rows})
	case "category_summary":
		telemetry.WriteJSON(w, http.StatusOK, database.QueryResult[database.CategorySummary]{Query: name, Rows: []database.CategorySummary{
			{Category: "tools", Products: 400}, {Category: "clearance", Products: 20},
		}})
	default:
		fakeError(w, http.StatusBadRequest, database.CodeInvalidQuery, "unknown query "+strconv.Quote(name))
	}
}
