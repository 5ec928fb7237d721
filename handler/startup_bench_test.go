package main

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// BenchmarkStartup measures how long the handler takes from exec to its first
// answer on GET / (the host's readiness probe). The contract is "well under a
// second"; Flex Consumption allows 30 s.
//
//	go test -run '^$' -bench BenchmarkStartup ./handler/
func BenchmarkStartup(b *testing.B) {
	client := &http.Client{Timeout: time.Second}
	for b.Loop() {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		cmd := exec.Command(handlerBinary)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "PAL_PARTNER_ID=1234567",
			"FUNCTIONS_CUSTOMHANDLER_PORT=" + strconv.Itoa(port), "IDENTITY_ENDPOINT=http://127.0.0.1:1/msi", "IDENTITY_HEADER=x"}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		url := "http://127.0.0.1:" + strconv.Itoa(port) + "/"
		deadline := time.Now().Add(10 * time.Second)
		for {
			resp, err := client.Get(url)
			if err == nil {
				resp.Body.Close()
				break
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				b.Fatalf("no answer on GET / after 10 s: %v", err)
			}
			time.Sleep(time.Millisecond)
		}
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}
}
