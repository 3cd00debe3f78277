package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// machineBusy is the CPU time all processes have used so far (from
// /proc/stat; 0 where it cannot be read), to tell how much of a phase's
// machine went to other processes.
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0
	}
	var busy int64
	for i, v := range f[1:] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0
		}
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return time.Duration(busy) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}

// cpuUsage describes the CPU a phase used: this process's, the worker
// processes', the local PostgreSQL server's, per event, and other
// processes'.
type cpuUsage struct {
	w                      *workers // nil with workers in process
	self, workers, pg, all time.Duration
}

func (b *bench) startUsage() cpuUsage {
	u := cpuUsage{w: b.workers, self: cpuTime(), all: machineBusy()}
	if b.o.DatabaseURL != "" {
		u.pg = postgresCPU()
	}
	if u.w != nil {
		u.workers = u.w.cpu()
	}
	return u
}

func (u cpuUsage) String(events int, elapsed time.Duration) string {
	self, all := cpuTime()-u.self, machineBusy()-u.all
	per := func(d time.Duration) time.Duration { return (d / time.Duration(events)).Round(100 * time.Nanosecond) }
	cores := func(d time.Duration) float64 { return d.Seconds() / elapsed.Seconds() }
	s := fmt.Sprintf("CPU %s per event (%.2f cores)", per(self), cores(self))
	known := self
	if u.w != nil {
		workers := u.w.cpu() - u.workers
		known += workers
		s += fmt.Sprintf(", worker processes %s per event (%.2f cores)", per(workers), cores(workers))
	}
	if u.pg > 0 {
		pg := max(0, postgresCPU()-u.pg)
		known += pg
		s += fmt.Sprintf(", postgres %s per event (%.2f cores)", per(pg), cores(pg))
	}
	other := max(0, all-known)
	return s + fmt.Sprintf("; other processes %.2f cores", cores(other))
}

// cpuTime is the process's CPU time so far (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSSMB reads the process's peak resident set (VmHWM) in MB.
func peakRSSMB() float64 { return procPeakRSSMB("self") }

// procPeakRSSMB reads process pid's peak resident set (VmHWM, from
// /proc/PID/status) in MB; 0 where it cannot be read.
func procPeakRSSMB(pid string) float64 {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			if err != nil {
				return 0
			}
			return kb / 1024
		}
	}
	return 0
}
