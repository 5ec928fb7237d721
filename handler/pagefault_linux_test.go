package main

import (
	"os"
	"syscall"
	"testing"
	"time"
)

// BenchmarkPageFault measures what one minor page fault costs on this
// machine: the time to write one byte in each page of fresh anonymous
// memory (huge pages refused, so each page faults once), reported as
// us/fault. Start-up is mostly page faults (BenchmarkStartup's faults), so
// this says how much a fault more or less weighs there; it is a property of
// the machine and its hypervisor, not of the handler.
//
//	go test -run '^$' -bench BenchmarkPageFault ./handler/
func BenchmarkPageFault(b *testing.B) {
	const pages = 4096
	page := os.Getpagesize()
	var touching time.Duration
	n := 0
	for b.Loop() {
		mem, err := syscall.Mmap(-1, 0, pages*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
		if err != nil {
			b.Fatal(err)
		}
		if err := syscall.Madvise(mem, syscall.MADV_NOHUGEPAGE); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		for i := 0; i < len(mem); i += page {
			mem[i] = 1
		}
		touching += time.Since(start)
		n += pages
		if err := syscall.Munmap(mem); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(touching.Nanoseconds())/float64(n)/1000, "us/fault")
}
