package faults

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Faults that a scenario sets must end when the scenario does, even when the process that ran
// it is gone (killed, or restarted without a record of it). So a scenario's changes are
// leased: they hold for a time to live that their owner renews every few seconds, and when the
// owner stops renewing (or releases the lease) the switch goes back to its base, the faults it
// had before the first leased change (those set at start, or by a person since).

// LeaseHeader carries the time to live of a leased change ("15s") on PUT and PATCH
// /admin/faults, and of a renewal on PUT /admin/faults/lease.
const LeaseHeader = "X-Pillars-Fault-Lease"

// MaxLease bounds a lease's time to live: an owner that is gone is noticed within it.
const MaxLease = 10 * time.Minute

// ErrNoLease is a renewal of a lease that is not held (it expired or was released, or the
// service restarted): the leased faults have ended already.
var ErrNoLease = errors.New("no lease is held: the leased faults have ended (expired, released, or the service restarted)")

// lease is a held lease; its timer restores the base when it expires.
type lease struct {
	until time.Time
	timer *time.Timer
}

// ParseLease reads a lease's time to live as LeaseHeader carries it; "" is no lease (0).
func ParseLease(text string) (time.Duration, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(text)
	if err != nil || d <= 0 || d > MaxLease {
		return 0, fmt.Errorf("%s %q: want a time to live like \"15s\", above 0 and at most %s", LeaseHeader, text, MaxLease)
	}
	return d, nil
}

// hold starts the lease, or extends it, for ttl from now. The caller holds mu.
func (s *Switch[T]) hold(ttl time.Duration) {
	if s.lease != nil {
		s.lease.timer.Stop()
	}
	l := &lease{until: time.Now().Add(ttl)}
	l.timer = time.AfterFunc(ttl, func() { s.expire(l) })
	s.lease = l
}

// expire ends lease l when its owner did not renew it in time: the base comes back.
func (s *Switch[T]) expire(l *lease) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lease != l {
		return // renewed or released meanwhile
	}
	s.lease = nil
	s.store(s.base)
	if log := s.log.Load(); log != nil && s.Labelled() { // a drill's change leaves no line that names it
		desc := s.Describe(&s.base)
		if desc == "" {
			desc = "none"
		}
		log.LogAttrs(context.Background(), slog.LevelWarn, "Fault lease expired: its owner stopped renewing it, the base faults are back",
			slog.String("faults", desc))
	}
}

// Renew extends the lease by ttl from now; ErrNoLease when none is held.
func (s *Switch[T]) Renew(ttl time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lease == nil {
		return ErrNoLease
	}
	s.hold(ttl)
	return nil
}

// Release ends the lease now and puts the base back. It reports whether a lease was held,
// and returns the faults in effect after it.
func (s *Switch[T]) Release() (bool, T) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lease == nil {
		return false, *s.current.Load()
	}
	s.lease.timer.Stop()
	s.lease = nil
	s.store(s.base)
	return true, s.base
}

// LeaseStatus is what GET /admin/faults/lease answers.
type LeaseStatus[T any] struct {
	Leased bool `json:"leased"`
	// Expires is when the leased faults end unless renewed; Base is what comes back then.
	Expires *time.Time `json:"expires,omitempty"`
	Base    *T         `json:"base,omitempty"`
}

// Lease says whether a lease is held, until when, and what comes back when it ends.
func (s *Switch[T]) Lease() LeaseStatus[T] {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lease == nil {
		return LeaseStatus[T]{}
	}
	until, base := s.lease.until, s.base
	return LeaseStatus[T]{Leased: true, Expires: &until, Base: &base}
}
