// Command fakehandler is a custom handler for the hostsim tests. It answers GET / and
// POST /{function}, echoing what it received in ReturnValue. Directives anywhere in the
// raw request body (so they survive any level of JSON encoding) change its answer:
//
//	FAKE:status=NNN      answer NNN with a JSON body
//	FAKE:text            answer 200 text/plain
//	FAKE:badjson         answer 200 application/json that is not JSON
//	FAKE:empty           answer 200 application/json with no body
//	FAKE:sleep=DUR       wait DUR first (e.g. 200ms)
//	FAKE:exit=N          exit with code N at once
//	FAKE:failuntil=N     answer 500 while Metadata.DeliveryCount < N
//	FAKE:outputs64=B64   use the base64url JSON object as Outputs
//	FAKE:log=TAG         write "fake-log TAG" to stdout and put it in the answer's Logs
//	                     too (both paths, to see which the host keeps); write
//	                     "fake-err TAG" to stderr
//
// Other requests (forwarded HTTP requests) get the echo as the body, with the status
// from the X-Fake-Status header.
//
// Environment: FAKE_START_DELAY (sleep before listening), FAKE_NEVER_LISTEN,
// FAKE_EXIT_AT_START=N, FAKE_IGNORE_TERM, FAKE_TERM_EXIT=N (exit code after SIGTERM).
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

var (
	invocations atomic.Int64
	inflight    atomic.Int64
	directive   = regexp.MustCompile(`FAKE:([a-z0-9]+)(?:=([A-Za-z0-9_\-.]+))?`)
)

func main() {
	if v := os.Getenv("FAKE_EXIT_AT_START"); v != "" {
		fmt.Fprintln(os.Stderr, "fake: exiting at start as asked")
		code, _ := strconv.Atoi(v)
		os.Exit(code)
	}
	if d, err := time.ParseDuration(os.Getenv("FAKE_START_DELAY")); err == nil {
		time.Sleep(d)
	}
	if os.Getenv("FAKE_NEVER_LISTEN") != "" {
		fmt.Fprintln(os.Stderr, "fake: not listening")
		select {}
	}
	port := os.Getenv("FUNCTIONS_CUSTOMHANDLER_PORT")
	ln, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake:", err)
		os.Exit(1)
	}
	srv := &http.Server{Handler: http.HandlerFunc(handle)}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	go func() { _ = srv.Serve(ln) }()
	fmt.Println("fake: listening on", port)
	<-sig
	if os.Getenv("FAKE_IGNORE_TERM") != "" {
		fmt.Println("fake: ignoring SIGTERM")
		select {}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
	fmt.Fprintln(os.Stderr, "fake: stopped")
	code, _ := strconv.Atoi(os.Getenv("FAKE_TERM_EXIT"))
	os.Exit(code)
}

func handle(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && r.URL.Path == "/" {
		_, _ = io.WriteString(w, "ready")
		return
	}
	n := invocations.Add(1)
	concurrent := inflight.Add(1)
	defer inflight.Add(-1)
	body, _ := io.ReadAll(r.Body)
	text := string(body)
	cwd, _ := os.Getwd()
	env := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "FUNCTIONS_") || strings.HasPrefix(k, "FAKE_") || strings.HasPrefix(k, "APP_") {
			env[k] = v
		}
	}
	echo := map[string]any{
		"method": r.Method, "path": r.URL.Path, "rawQuery": r.URL.RawQuery, "host": r.Host,
		"header": r.Header, "contentLength": r.ContentLength, "transferEncoding": r.TransferEncoding,
		"body": text, "pid": os.Getpid(), "cwd": cwd, "args": os.Args[1:], "env": env,
		"invocation": n, "concurrent": concurrent,
	}

	if r.Method != http.MethodPost || strings.Count(r.URL.Path, "/") != 1 {
		status := http.StatusOK
		if s, err := strconv.Atoi(r.Header.Get("X-Fake-Status")); err == nil {
			status = s
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Fake", "raw")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(echo)
		return
	}

	d := map[string]string{}
	for _, m := range directive.FindAllStringSubmatch(text, -1) {
		d[m[1]] = m[2]
	}
	if v, ok := d["exit"]; ok {
		code, _ := strconv.Atoi(v)
		os.Exit(code)
	}
	if v, ok := d["sleep"]; ok {
		dur, _ := time.ParseDuration(v)
		select {
		case <-time.After(dur):
		case <-r.Context().Done():
			return
		}
	}
	if v, ok := d["failuntil"]; ok {
		limit, _ := strconv.Atoi(v)
		var env struct {
			Metadata struct{ DeliveryCount string }
		}
		_ = json.Unmarshal(body, &env)
		if count, _ := strconv.Atoi(env.Metadata.DeliveryCount); count < limit {
			d["status"] = "500"
		}
	}
	logs := []string{"fake: handled " + r.URL.Path}
	if tag, ok := d["log"]; ok {
		line := "fake-log " + tag
		fmt.Println(line)
		fmt.Fprintln(os.Stderr, "fake-err "+tag)
		logs = append(logs, line)
	}
	outputs := json.RawMessage(`{}`)
	if v, ok := d["outputs64"]; ok {
		raw, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		outputs = raw
	}
	switch {
	case d["status"] != "":
		status, _ := strconv.Atoi(d["status"])
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		logs = append(logs, fmt.Sprintf("failing with %d", status))
		_ = json.NewEncoder(w).Encode(map[string]any{"Outputs": map[string]any{}, "Logs": logs, "ReturnValue": nil})
	case hasKey(d, "text"):
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, `{"Outputs":{},"Logs":[],"ReturnValue":null}`)
	case hasKey(d, "badjson"):
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"Outputs": nope`)
	case hasKey(d, "empty"):
		w.Header().Set("Content-Type", "application/json")
	default:
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"outputs":     outputs, // lower case on purpose: keys match case-insensitively
			"Logs":        logs,
			"ReturnValue": echo,
		})
	}
}

func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}
