package traffic

import (
	"math/rand/v2"
	"strconv"
)

// requestDraw draws the next request: the page kind by the mix, ids from a Zipf distribution
// over the seeded ranges (a few hot ids, a long tail), and the bad requests (ids past the
// ranges, zero, negative, not numbers). It is used by the pacing loop only: one goroutine, no
// lock.
type requestDraw struct {
	rng                 *rand.Rand
	users, products     idDraw
	maxUser, maxProduct int64
}

// zipfS skews id popularity: with s=1.1 over 5000 users the hottest id gets about 15% of the
// requests and most ids a handful, so the backend cache sees both hits and misses.
const zipfS = 1.1

func newRequestDraw(rng *rand.Rand, maxUser, maxProduct int64) *requestDraw {
	return &requestDraw{
		rng:        rng,
		users:      newIDDraw(rng, maxUser),
		products:   newIDDraw(rng, maxProduct),
		maxUser:    maxUser,
		maxProduct: maxProduct,
	}
}

const (
	acceptJSON    = "application/json"
	acceptBrowser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
)

// next returns the path and Accept header of the next request under mix.
func (d *requestDraw) next(mix Mix) (path, accept string) {
	p := d.rng.Float64() * mix.total()
	switch {
	case p < mix.Home:
		// Some visitors are browsers: the home page's HTML variant gets traffic too.
		if d.rng.IntN(3) == 0 {
			return "/", acceptBrowser
		}
		return "/", acceptJSON
	case p < mix.Home+mix.User:
		return "/user/" + strconv.FormatInt(d.users.next(), 10), acceptJSON
	case p < mix.Home+mix.User+mix.Product:
		return "/product/" + strconv.FormatInt(d.products.next(), 10), acceptJSON
	}
	return d.bad(), acceptJSON
}

// bad returns a path the services must refuse: mostly ids that do not exist (404), some that
// are not valid ids at all (400).
func (d *requestDraw) bad() string {
	switch p := d.rng.IntN(10); {
	case p < 4:
		return "/user/" + strconv.FormatInt(d.maxUser+1+d.rng.Int64N(1000), 10)
	case p < 7:
		return "/product/" + strconv.FormatInt(d.maxProduct+1+d.rng.Int64N(1000), 10)
	case p < 8:
		return "/user/" + [...]string{"abc", "12abc", "1.5", "one"}[d.rng.IntN(4)]
	case p < 9:
		return "/product/" + [...]string{"xyz", "0x10", "7e3"}[d.rng.IntN(3)]
	}
	return [...]string{"/user/0", "/user/-1", "/product/0", "/product/-42"}[d.rng.IntN(4)]
}

// idDraw draws ids 1..n with Zipf popularity. The popularity rank is spread over the range by a
// stride coprime with n, so the hot ids are not simply 1, 2, 3 (which would look staged).
type idDraw struct {
	zipf   *rand.Zipf
	n      int64
	stride int64
}

func newIDDraw(rng *rand.Rand, n int64) idDraw {
	d := idDraw{n: n, stride: 1}
	if n > 1 {
		d.zipf = rand.NewZipf(rng, zipfS, 1, uint64(n-1))
		for s := n*5/8 + 1; s < 2*n; s++ {
			if gcd(s, n) == 1 {
				d.stride = s
				break
			}
		}
	}
	return d
}

func (d idDraw) next() int64 {
	if d.zipf == nil {
		return 1
	}
	rank := int64(d.zipf.Uint64()) // 0 is the most popular
	return 1 + (rank+1)*d.stride%d.n
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
