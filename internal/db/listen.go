package db

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Listener receives the notifications of one channel (see [Pool.Listen]).
type Listener struct {
	// Ready is called each time the listener is listening, after a (re)connect:
	// notifications sent while it was not may have been missed.
	Ready func()
	// Notify is called with the payload of each notification, in the order they
	// were committed.
	Notify func(payload string)
	// Lost is called when the connection fails; nothing is received until the next
	// Ready.
	Lost func(err error)
}

// listenRetry is the pause between reconnection attempts of Listen.
const listenRetry = time.Second

// Listen LISTENs on channel on a connection of its own (outside the pool, with the
// pool's settings) and hands every notification to l until ctx ends, reconnecting
// after a failure (calling l.Lost, then l.Ready once listening again). It returns
// when ctx ends.
func (p *Pool) Listen(ctx context.Context, channel string, l Listener) {
	cfg := p.pool.Config().ConnConfig.Copy()
	for ctx.Err() == nil {
		err := p.listenOnce(ctx, cfg, channel, l)
		if ctx.Err() != nil {
			return
		}
		if l.Lost != nil {
			l.Lost(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(listenRetry):
		}
	}
}

// listenOnce connects, listens and receives until the connection fails or ctx ends.
func (p *Pool) listenOnce(ctx context.Context, cfg *pgx.ConnConfig, channel string, l Listener) error {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("listen %s: connect: %w", channel, err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return fmt.Errorf("listen %s: %w", channel, err)
	}
	if l.Ready != nil {
		l.Ready()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("listen %s: %w", channel, err)
		}
		if l.Notify != nil {
			l.Notify(n.Payload)
		}
	}
}
