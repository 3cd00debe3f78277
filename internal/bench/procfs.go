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

// cpuUsage holds the CPU counters at the start of a phase: this process's,
// the worker processes', the local PostgreSQL server's and the machine's.
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

// cpuCost is the CPU a phase of events used, in total: this process's, the
// worker processes' (0 without), the local PostgreSQL server's (0 on SQLite
// or when the server is not on this machine) and the machine's other
// processes'. Its per-event figures feed both the phase's progress line and
// the Result.
type cpuCost struct {
	events                         int
	withWorkers, withPostgres      bool
	self, workers, postgres, other time.Duration
}

// cost reads the CPU used since u was taken by a phase of events.
func (u cpuUsage) cost(events int) cpuCost {
	c := cpuCost{events: events, self: cpuTime() - u.self}
	known := c.self
	if u.w != nil {
		c.withWorkers = true
		c.workers = u.w.cpu() - u.workers
		known += c.workers
	}
	if u.pg > 0 {
		c.withPostgres = true
		c.postgres = max(0, postgresCPU()-u.pg)
		known += c.postgres
	}
	c.other = max(0, machineBusy()-u.all-known)
	return c
}

// per is d per event, rounded to 0.1 µs.
func (c cpuCost) per(d time.Duration) time.Duration {
	return (d / time.Duration(c.events)).Round(100 * time.Nanosecond)
}

// perMicros is d per event in microseconds (one decimal), the Result's unit.
func (c cpuCost) perMicros(d time.Duration) float64 {
	return float64(c.per(d)) / float64(time.Microsecond)
}

// String is the progress line's account of the cost of a phase that
// lasted elapsed.
func (c cpuCost) String(elapsed time.Duration) string {
	cores := func(d time.Duration) float64 { return d.Seconds() / elapsed.Seconds() }
	s := fmt.Sprintf("CPU %s per event (%.2f cores)", c.per(c.self), cores(c.self))
	if c.withWorkers {
		s += fmt.Sprintf(", worker processes %s per event (%.2f cores)", c.per(c.workers), cores(c.workers))
	}
	if c.withPostgres {
		s += fmt.Sprintf(", postgres %s per event (%.2f cores)", c.per(c.postgres), cores(c.postgres))
	}
	return s + fmt.Sprintf("; other processes %.2f cores", cores(c.other))
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
