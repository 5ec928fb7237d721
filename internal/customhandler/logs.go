package customhandler

import (
	"bytes"
	"fmt"
	"sync"
)

const (
	// maxLogLines and maxLogBytes bound what one invocation's Logs may hold;
	// stdout still gets every line.
	maxLogLines = 1000
	maxLogBytes = 1 << 20
)

// logCollector keeps the log lines of one invocation for its answer's Logs.
// It is safe for concurrent use.
type logCollector struct {
	mu      sync.Mutex
	lines   []string
	size    int
	dropped int
	closed  bool
}

// Write implements io.Writer: p is one JSON log line from zerolog.
func (c *logCollector) Write(p []byte) (int, error) {
	line := string(bytes.TrimRight(p, "\r\n"))
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
	case len(c.lines) >= maxLogLines || c.size+len(line) > maxLogBytes:
		c.dropped++
	default:
		c.lines = append(c.lines, line)
		c.size += len(line)
	}
	return len(p), nil
}

// close stops collecting and returns the lines collected, never nil. Lines
// written later (by goroutines that outlive the handler) reach stdout only.
func (c *logCollector) close() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	lines := append(make([]string, 0, len(c.lines)+1), c.lines...)
	if c.dropped > 0 {
		lines = append(lines, fmt.Sprintf(`{"level":"warn","message":"%d more log lines are on stdout only"}`, c.dropped))
	}
	return lines
}
