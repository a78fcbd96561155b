package logging

import (
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// AccessLog writes access log lines as the JSON logger would write a record of
// message "request" with these attributes and the request id (see New and
// RequestHandler), but encoded straight into a reused buffer: the line every request
// writes costs no allocation.
type AccessLog struct {
	w    io.Writer
	bufs sync.Pool
}

// AccessEntry is one access log line.
type AccessEntry struct {
	Time      time.Time
	Level     slog.Level
	Method    string
	Route     string
	Path      string
	Status    int
	Latency   time.Duration
	Bytes     int
	ClientIP  string
	RequestID string
}

// NewAccessLog returns an AccessLog writing one line per entry to w (which must be
// safe for concurrent use, as the logger's writer is).
func NewAccessLog(w io.Writer) *AccessLog {
	return &AccessLog{w: w, bufs: sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}}
}

// Write writes e as one JSON line. Errors: the writer's.
func (l *AccessLog) Write(e *AccessEntry) error {
	bp := l.bufs.Get().(*[]byte)
	b := append((*bp)[:0], `{"time":"`...)
	b = appendTimeMillis(b, e.Time)
	b = append(b, `","level":`...)
	b = appendJSONString(b, e.Level.String())
	b = append(b, `,"msg":"request","method":`...)
	b = appendJSONString(b, e.Method)
	b = append(b, `,"route":`...)
	b = appendJSONString(b, e.Route)
	b = append(b, `,"path":`...)
	b = appendJSONString(b, e.Path)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(e.Status), 10)
	b = append(b, `,"latency_ms":`...)
	b = strconv.AppendFloat(b, float64(e.Latency.Microseconds())/1000, 'g', -1, 64)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, int64(e.Bytes), 10)
	b = append(b, `,"client_ip":`...)
	b = appendJSONString(b, e.ClientIP)
	if e.RequestID != "" {
		b = append(b, `,"request_id":`...)
		b = appendJSONString(b, e.RequestID)
	}
	b = append(b, "}\n"...)
	_, err := l.w.Write(b)
	*bp = b
	l.bufs.Put(bp)
	return err
}

// timeLayout is the access log's time format: RFC 3339 with milliseconds, as the
// JSON logger writes times.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// appendTimeMillis appends t in timeLayout, digit by digit: a tenth of the cost of
// interpreting the layout on every line. Years outside 0–9999 go through the layout.
func appendTimeMillis(b []byte, t time.Time) []byte {
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, timeLayout)
	}
	hour, minute, sec := t.Clock()
	digits := func(b []byte, v, n int) []byte {
		for d := n - 1; d >= 0; d-- {
			b = append(b, '0')
		}
		for i := len(b) - 1; v > 0; i-- {
			b[i] += byte(v % 10)
			v /= 10
		}
		return b
	}
	b = digits(b, year, 4)
	b = append(b, '-')
	b = digits(b, int(month), 2)
	b = append(b, '-')
	b = digits(b, day, 2)
	b = append(b, 'T')
	b = digits(b, hour, 2)
	b = append(b, ':')
	b = digits(b, minute, 2)
	b = append(b, ':')
	b = digits(b, sec, 2)
	b = append(b, '.')
	b = digits(b, t.Nanosecond()/1e6, 3)
	_, offset := t.Zone()
	if offset == 0 {
		return append(b, 'Z')
	}
	zone, sign := offset/60, byte('+') // whole minutes, as the layout writes them
	if zone < 0 {
		zone, sign = -zone, '-'
	}
	b = append(b, sign)
	b = digits(b, zone/60, 2)
	b = append(b, ':')
	return digits(b, zone%60, 2)
}

// appendJSONString appends s as a JSON string: quotes, backslashes and control
// characters escaped, invalid UTF-8 replaced by U+FFFD, as encoding/json does.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
