package db

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/quarrydev/quarry/internal/db/sqlc"
)

// Defaults of [ReplicaConfig].
const (
	// DefaultReplicaMaxLag is how far behind the primary a replica may be and still
	// serve reads.
	DefaultReplicaMaxLag = 5 * time.Second
	// DefaultReplicaCheckInterval is how often each replica's position is read.
	DefaultReplicaCheckInterval = time.Second
	// minCheckTimeout bounds one check of the replicas when the interval is shorter:
	// a busy machine must not read as an unreachable replica.
	minCheckTimeout = 2 * time.Second
)

// ReplicaConfig configures [NewReplicas].
type ReplicaConfig struct {
	// URLs are the replicas' connection strings; each pool is built like the
	// primary's from Pool with the URL replaced.
	URLs []string
	// Pool is the primary's pool configuration (URL ignored).
	Pool PoolConfig
	// MaxLag takes a replica out of rotation while the changes it has not replayed
	// are older than this; 0 means [DefaultReplicaMaxLag].
	MaxLag time.Duration
	// CheckInterval is the period of the background check of every replica's replay
	// position, lag and health; 0 means [DefaultReplicaCheckInterval].
	CheckInterval time.Duration
	// Log receives a line each time a replica is taken out of rotation or put back.
	Log *slog.Logger
}

// Replicas are the read replicas of one primary: the pools, their cached replay
// positions and health, kept current by a background check. A [Store] built with
// [NewReplicatedStore] sends its read-only queries to them (see [Store]). Safe for
// concurrent use; Close stops the check and closes the pools.
type Replicas struct {
	primary  *Pool
	list     []*replica
	maxLag   time.Duration
	interval time.Duration
	log      *slog.Logger
	next     atomic.Uint32 // round-robin position
	primaryR atomic.Uint64 // reads that found no replica fresh enough

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// replica is one read replica and what the last check found about it.
type replica struct {
	name string // the URL without its password
	pool *Pool
	q    *sqlc.Queries
	set  *Replicas

	usable    atomic.Bool   // in rotation: reachable, a standby, within MaxLag
	checked   atomic.Bool   // a check has run
	replayLSN atomic.Uint64 // last replayed WAL position seen by the check
	lagNanos  atomic.Int64  // age of the oldest change not yet replayed
	lagBytes  atomic.Int64  // primary's WAL position minus replayLSN, at the check
	routed    atomic.Uint64 // queries sent to it
	behind    atomic.Uint64 // reads it could not take because it had not replayed the client's writes
	failures  atomic.Uint64 // queries that failed on it and ran on the primary instead
	lastErr   atomic.Pointer[string]
}

// ReplicaStats is a snapshot of one replica, for metrics.
type ReplicaStats struct {
	Name      string        // URL without its password
	Usable    bool          // in rotation
	ReplayLSN LSN           // last replayed WAL position seen
	Lag       time.Duration // age of the oldest change it has not replayed (0 when caught up)
	LagBytes  int64         // WAL bytes behind the primary at the last check
	Routed    uint64        // queries it served
	Behind    uint64        // reads sent to the primary because it had not replayed the client's writes
	Failures  uint64        // reads that failed on it and were rerun on the primary
}

// NewReplicas opens a pool per replica URL, checks each once (a replica that does not
// answer within the check interval, or 2s if longer, starts out of rotation and is
// put in when it does), and starts the background check. It returns an error only for an unusable configuration (a URL
// that does not parse, invalid pool settings); an unreachable replica is not one.
func NewReplicas(ctx context.Context, primary *Pool, cfg ReplicaConfig) (*Replicas, error) {
	rs := &Replicas{
		primary:  primary,
		maxLag:   cfg.MaxLag,
		interval: cfg.CheckInterval,
		log:      cfg.Log,
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	if rs.maxLag <= 0 {
		rs.maxLag = DefaultReplicaMaxLag
	}
	if rs.interval <= 0 {
		rs.interval = DefaultReplicaCheckInterval
	}
	if rs.log == nil {
		rs.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	for _, u := range cfg.URLs {
		pc := cfg.Pool
		pc.URL = u
		pool, err := openPool(ctx, pc)
		if err != nil {
			rs.closePools()
			return nil, fmt.Errorf("replica: %w", err)
		}
		rs.list = append(rs.list, &replica{name: RedactURL(u), pool: pool, q: sqlc.New(pool), set: rs})
	}
	cctx, cancel := context.WithTimeout(ctx, max(rs.interval, minCheckTimeout))
	rs.check(cctx)
	cancel()
	go rs.run()
	return rs, nil
}

// Close stops the background check and closes the replicas' pools.
func (rs *Replicas) Close() {
	rs.once.Do(func() {
		close(rs.stop)
		<-rs.done
		rs.closePools()
	})
}

func (rs *Replicas) closePools() {
	for _, r := range rs.list {
		r.pool.Close()
	}
}

// Stats returns a snapshot of every replica, in configuration order.
func (rs *Replicas) Stats() []ReplicaStats {
	out := make([]ReplicaStats, len(rs.list))
	for i, r := range rs.list {
		out[i] = ReplicaStats{
			Name:      r.name,
			Usable:    r.usable.Load(),
			ReplayLSN: LSN(r.replayLSN.Load()),
			Lag:       time.Duration(r.lagNanos.Load()),
			LagBytes:  r.lagBytes.Load(),
			Routed:    r.routed.Load(),
			Behind:    r.behind.Load(),
			Failures:  r.failures.Load(),
		}
	}
	return out
}

// PrimaryReads returns how many read-only queries went to the primary because no
// replica was in rotation and past the client's last write.
func (rs *Replicas) PrimaryReads() uint64 { return rs.primaryR.Load() }

// Refresh checks every replica now, as the background check does, and returns once
// the new positions are in effect.
func (rs *Replicas) Refresh(ctx context.Context) { rs.check(ctx) }

// run checks the replicas every interval until Close.
func (rs *Replicas) run() {
	defer close(rs.done)
	t := time.NewTicker(rs.interval)
	defer t.Stop()
	for {
		select {
		case <-rs.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), max(rs.interval, minCheckTimeout))
			rs.check(ctx)
			cancel()
		}
	}
}

// check reads the primary's WAL position, then each replica's state, concurrently.
func (rs *Replicas) check(ctx context.Context) {
	var primaryLSN LSN
	if err := rs.primary.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(scanLSN(&primaryLSN)); err != nil {
		primaryLSN = 0 // unknown: lag is judged by the replica's replay time alone
	}
	var wg sync.WaitGroup
	for _, r := range rs.list {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.check(ctx, primaryLSN)
		}()
	}
	wg.Wait()
}

// replicaStateSQL reads a standby's recovery state, replay position and the age of
// the last transaction it replayed.
const replicaStateSQL = `SELECT pg_is_in_recovery(),
	COALESCE(pg_last_wal_replay_lsn()::text, '0/0'),
	COALESCE(EXTRACT(epoch FROM now() - pg_last_xact_replay_timestamp()), 0)::float8`

// check reads r's state and puts it in or out of rotation.
func (r *replica) check(ctx context.Context, primaryLSN LSN) {
	var (
		recovering bool
		replay     LSN
		ageSecs    float64
	)
	err := r.pool.QueryRow(ctx, replicaStateSQL).Scan(&recovering, scanLSN(&replay), &ageSecs)
	switch {
	case err != nil:
		r.setUsable(false, "unreachable: "+err.Error())
		return
	case !recovering:
		r.setUsable(false, "not a standby (pg_is_in_recovery() is false): refusing to read from it")
		return
	}
	r.replayLSN.Store(uint64(replay))
	var lag time.Duration
	if primaryLSN == 0 || replay < primaryLSN {
		lag = time.Duration(ageSecs * float64(time.Second))
	}
	var lagBytes int64
	if primaryLSN > replay {
		lagBytes = int64(primaryLSN - replay)
	}
	r.lagNanos.Store(int64(lag))
	r.lagBytes.Store(lagBytes)
	if lag > r.set.maxLag {
		r.setUsable(false, fmt.Sprintf("lagging %s behind the primary (REPLICA_MAX_LAG %s)", lag.Round(time.Millisecond), r.set.maxLag))
		return
	}
	r.setUsable(true, "")
}

// setUsable records r's state, logging each change and the first state found.
func (r *replica) setUsable(ok bool, reason string) {
	if !ok {
		r.lastErr.Store(&reason)
	}
	first := !r.checked.Swap(true)
	if r.usable.Swap(ok) == ok && !first {
		return
	}
	if ok {
		r.set.log.Info("replica in rotation", "replica", r.name)
		return
	}
	r.set.log.Warn("replica taken out of rotation", "replica", r.name, "reason", reason)
}

// pick returns a replica to run a read-only query of ctx on: one in rotation that
// has replayed the session's last write (see [WithSession]), taken in turn; nil when
// rs is nil (no replicas: the primary) or none qualifies.
func (rs *Replicas) pick(ctx context.Context) *replica {
	if rs == nil {
		return nil
	}
	var need LSN
	if s := sessionFrom(ctx); s != nil {
		if s.pinned.Load() {
			rs.primaryR.Add(1)
			return nil
		}
		need = s.After()
	}
	n := uint32(len(rs.list))
	start := rs.next.Add(1)
	for i := range n {
		r := rs.list[(start+i)%n]
		if !r.usable.Load() {
			continue
		}
		if LSN(r.replayLSN.Load()) < need {
			r.behind.Add(1)
			continue
		}
		r.routed.Add(1)
		return r
	}
	rs.primaryR.Add(1)
	return nil
}

// failed reports whether err, the result of a query on r, means the query should
// run again on the primary: the replica could not be reached or answer (it is then
// taken out of rotation until the next check finds it well), its pool was exhausted,
// or the standby cancelled the query for a conflict with recovery. Errors of the
// query itself (no rows, bad input) and the caller's cancellation are not failures.
func (r *replica) failed(ctx context.Context, err error) bool {
	if err == nil || ctx.Err() != nil {
		return false
	}
	switch {
	case errors.Is(err, ErrPoolExhausted):
	case errors.Is(Translate(err), ErrUnavailable):
		r.setUsable(false, "query failed: "+err.Error())
	case isRecoveryConflict(err):
	default:
		return false
	}
	r.failures.Add(1)
	return true
}

// isRecoveryConflict reports whether a standby cancelled the query because replay
// needed what it read (SQLSTATE 40001, "conflict with recovery").
func isRecoveryConflict(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == codeSerializationFailure
}

// recordWrite advances ctx's session (if any) to the primary's current WAL position,
// so the client's later reads see what it just wrote. It runs only when rs has
// replicas and ctx carries a session; a failure to read the position leaves the
// session pinned to the primary for the rest of the request and is logged.
func (rs *Replicas) recordWrite(ctx context.Context) {
	s := sessionFrom(ctx)
	if s == nil {
		return
	}
	var lsn LSN
	if err := rs.primary.QueryRow(ctx, "SELECT pg_current_wal_insert_lsn()::text").Scan(scanLSN(&lsn)); err != nil {
		rs.log.WarnContext(ctx, "reading the primary's WAL position after a write", "error", err)
		s.pinned.Store(true)
		return
	}
	s.advance(lsn)
}

// LSN is a PostgreSQL WAL position (pg_lsn), written like PostgreSQL as two
// hexadecimal halves, "16/B374D848".
type LSN uint64

// String returns the position in PostgreSQL's notation.
func (l LSN) String() string {
	return strconv.FormatUint(uint64(l)>>32, 16) + "/" + strconv.FormatUint(uint64(l)&0xFFFFFFFF, 16)
}

// ParseLSN parses PostgreSQL's notation of a WAL position ("16/B374D848",
// case-insensitive). It returns an error for anything else.
func ParseLSN(s string) (LSN, error) {
	hi, lo, ok := strings.Cut(s, "/")
	if !ok || hi == "" || lo == "" || len(hi) > 8 || len(lo) > 8 {
		return 0, fmt.Errorf("db: invalid WAL position %q: want two hexadecimal numbers like 16/B374D848", s)
	}
	h, err1 := strconv.ParseUint(hi, 16, 32)
	l, err2 := strconv.ParseUint(lo, 16, 32)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("db: invalid WAL position %q: want two hexadecimal numbers like 16/B374D848", s)
	}
	return LSN(h<<32 | l), nil
}

// lsnScanner scans pg_lsn text into an LSN.
type lsnScanner struct{ l *LSN }

func scanLSN(l *LSN) lsnScanner { return lsnScanner{l} }

func (s lsnScanner) Scan(src any) error {
	text, ok := src.(string)
	if !ok {
		return fmt.Errorf("db: WAL position: want text, got %T", src)
	}
	l, err := ParseLSN(text)
	if err != nil {
		return err
	}
	*s.l = l
	return nil
}

// Session is what one client's request knows about the primary's WAL: the position
// its reads must see (its own earlier writes, carried by the client from response to
// request) and, once the request wrote, the new position to hand back. Safe for
// concurrent use.
type Session struct {
	after    atomic.Uint64
	advanced atomic.Bool
	pinned   atomic.Bool // the position of a write is unknown: read from the primary
	// OnAdvance, when set, is called with the new position each time a write moves
	// the session forward (e.g. to set a response header before the body is written).
	OnAdvance func(LSN)
}

// NewSession returns a session whose reads must see position after (0: anything).
func NewSession(after LSN) *Session {
	s := &Session{}
	s.after.Store(uint64(after))
	return s
}

// Pin sends the session's reads to the primary, whatever the replicas have replayed:
// for a client whose position is unknown.
func (s *Session) Pin() { s.pinned.Store(true) }

// After returns the position the session's reads must see.
func (s *Session) After() LSN { return LSN(s.after.Load()) }

// Advanced reports whether a write of this session moved its position.
func (s *Session) Advanced() bool { return s.advanced.Load() }

// advance raises the session's position to at least l.
func (s *Session) advance(l LSN) {
	for {
		cur := s.after.Load()
		if uint64(l) <= cur {
			return
		}
		if s.after.CompareAndSwap(cur, uint64(l)) {
			s.advanced.Store(true)
			if s.OnAdvance != nil {
				s.OnAdvance(l)
			}
			return
		}
	}
}

type sessionKey struct{}

// WithSession returns ctx carrying s: reads under it go to replicas that have
// replayed s.After(), and writes under it advance s.
func WithSession(ctx context.Context, s *Session) context.Context {
	return context.WithValue(ctx, sessionKey{}, s)
}

func sessionFrom(ctx context.Context) *Session {
	s, _ := ctx.Value(sessionKey{}).(*Session)
	return s
}
