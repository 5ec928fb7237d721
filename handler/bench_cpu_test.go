package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// clockTicks is the kernel's USER_HZ, the unit of utime and stime in
// /proc/<pid>/stat (100 on every Linux the benchmarks run on).
const clockTicks = 100

// cpuSample is the CPU time (user + system, seconds) used so far by this
// process and by its live descendants, summed by command name (comm).
type cpuSample map[string]float64

// sampleCPU reads /proc for this process and its descendants. Linux only;
// elsewhere it returns an empty sample.
func sampleCPU() cpuSample {
	type proc struct {
		ppid int
		comm string
		cpu  float64
	}
	procs := map[int]proc{}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(d, "stat"))
		if err != nil {
			continue
		}
		s := string(b)
		open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || closing < open {
			continue
		}
		f := strings.Fields(s[closing+1:]) // state ppid … utime(12) stime(13)
		if len(f) < 13 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		ut, _ := strconv.ParseFloat(f[11], 64)
		st, _ := strconv.ParseFloat(f[12], 64)
		procs[pid] = proc{ppid: ppid, comm: s[open+1 : closing], cpu: (ut + st) / clockTicks}
	}
	self := os.Getpid()
	out := cpuSample{}
	for pid, p := range procs {
		for a, n := pid, 0; n < 32; n++ {
			if a == self {
				name := p.comm
				if pid == self {
					name = "test"
				}
				out[name] += p.cpu
				break
			}
			q, ok := procs[a]
			if !ok {
				break
			}
			a = q.ppid
		}
	}
	return out
}

// since returns the CPU used between from and s, by name.
func (s cpuSample) since(from cpuSample) cpuSample {
	out := cpuSample{}
	for k, v := range s {
		out[k] = v - from[k]
	}
	return out
}
