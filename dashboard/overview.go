package dashboard

import (
	"fmt"
	"html/template"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/agenthooks/agenthooks"
)

type overviewData struct {
	Range        overviewRange
	Ranges       []overviewRange
	Deliveries   int // made in the range, whatever their number of attempts
	Succeeded    int
	FailedDels   int
	Attempts     int
	Failed       int
	Backlog      agenthooks.Backlog
	Late         time.Duration // how late the most overdue pending delivery is
	RateChart    template.HTML
	FailureChart template.HTML
	Problems     []webhookRow // failing or disabled webhooks
	WebhookCount int
	Peak         int
}

// overviewRange is one of the Overview's time ranges: its window, the
// width of a bar of attempts, and the width of a bar of the failure rate.
type overviewRange struct {
	Key, Label, Short string
	Window, Step      time.Duration
	FailStep          time.Duration
	StepLabel         string // "minute": the rate chart counts per Step
	FailLabel         string
}

// overviewRanges: each has 60 to 168 bars, so a burst is a bar one can see,
// never a hair-line among 1440.
var overviewRanges = []overviewRange{
	{Key: "1h", Label: "hour", Short: "1 h", Window: time.Hour, Step: time.Minute, FailStep: 5 * time.Minute, StepLabel: "minute", FailLabel: "5 minutes"},
	{Key: "24h", Label: "24 hours", Short: "24 h", Window: 24 * time.Hour, Step: 10 * time.Minute, FailStep: time.Hour, StepLabel: "10 minutes", FailLabel: "hour"},
	{Key: "7d", Label: "7 days", Short: "7 d", Window: 7 * 24 * time.Hour, Step: time.Hour, FailStep: 6 * time.Hour, StepLabel: "hour", FailLabel: "6 hours"},
}

// rangeOf returns the range named by key, 24 h when key names none.
func rangeOf(key string) overviewRange {
	for _, r := range overviewRanges {
		if r.Key == key {
			return r
		}
	}
	return overviewRanges[1]
}

func (d *Dashboard) overview(w http.ResponseWriter, r *http.Request, s *session) error {
	rg := rangeOf(r.URL.Query().Get("range"))
	o, err := d.svc.GetOverview(r.Context(), s.account.ID, rg.Window, rg.Step)
	if err != nil {
		return err
	}
	data := overviewData{Range: rg, Ranges: overviewRanges, Attempts: o.Attempts, Failed: o.Failed, Backlog: o.Backlog, WebhookCount: len(o.Webhooks),
		Succeeded: o.Deliveries[agenthooks.DeliverySucceeded], FailedDels: o.Deliveries[agenthooks.DeliveryFailed]}
	for _, n := range o.Deliveries {
		data.Deliveries += n
	}
	if !o.Backlog.OldestDue.IsZero() {
		data.Late = o.Now.Sub(o.Backlog.OldestDue)
	}
	for _, wh := range o.Webhooks {
		st := o.Stats[wh.ID]
		if !wh.Enabled || !wh.FailingSince.IsZero() {
			data.Problems = append(data.Problems, webhookRow{Webhook: wh, Stats: st})
		}
	}
	for _, b := range o.Series {
		data.Peak = max(data.Peak, b.Attempts)
	}
	data.RateChart = rateChart(o.Series, rg)
	data.FailureChart = failureChart(o.Series, rg)
	d.render(w, r, http.StatusOK, "overview.html", s, view{Title: "Overview", Nav: "overview", D: data})
	return nil
}

// Chart geometry (SVG user units; the SVG scales to its box).
const (
	chartW, chartH = 720.0, 180.0
	padL, padR     = 8.0, 44.0 // the value axis is on the right, next to "now"
	padT, padB     = 10.0, 24.0
)

// niceMax rounds a chart's top up to 1, 2 or 5 times a power of ten.
func niceMax(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// divisions returns how many equal steps split [0, top] so that every tick is
// a whole number, for a top niceMax gave: 1, 2 and 5 in steps of one, then 4
// steps of a 2 (20, 200) and 5 of the others (10 in 2s, 50 in 10s).
func divisions(top float64) int {
	if top <= 5 {
		return max(int(top), 1)
	}
	if top/math.Pow(10, math.Floor(math.Log10(top))) == 2 {
		return 4
	}
	return 5
}

func chartFrame(b *strings.Builder, title string, top float64, unit string, start, end time.Time, window time.Duration) {
	fmt.Fprintf(b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`, chartW, chartH, template.HTMLEscapeString(title))
	plotH := chartH - padT - padB
	n := divisions(top)
	for i := 0; i <= n; i++ {
		y := padT + plotH*float64(i)/float64(n)
		v := top * float64(n-i) / float64(n)
		fmt.Fprintf(b, `<line class="grid" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, padL, y, chartW-padR, y)
		fmt.Fprintf(b, `<text class="axis" x="%.1f" y="%.1f" text-anchor="start">%s%s</text>`, chartW-padR+6, y+4, trimFloat(v), unit)
	}
	span := end.Sub(start)
	layout := "15:04"
	if window > 24*time.Hour {
		layout = "01-02 15:04"
	}
	for i := 0; i <= 4; i++ {
		x := padL + (chartW-padL-padR)*float64(i)/4
		t := start.Add(span * time.Duration(i) / 4)
		anchor := "middle"
		if i == 0 {
			anchor = "start"
		} else if i == 4 {
			anchor = "end"
		}
		fmt.Fprintf(b, `<text class="axis" x="%.1f" y="%.1f" text-anchor="%s">%s</text>`, x, chartH-6, anchor, t.UTC().Format(layout))
	}
}

func trimFloat(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// rateChart draws attempts per bucket of rg.Step (failed ones in red below
// the successful ones) over the series.
func rateChart(series []agenthooks.AttemptBucket, rg overviewRange) template.HTML {
	var b strings.Builder
	if len(series) == 0 {
		return ""
	}
	peak := 0
	for _, s := range series {
		peak = max(peak, s.Attempts)
	}
	top := niceMax(float64(peak))
	start, end := series[0].Start, series[len(series)-1].Start.Add(rg.Step)
	chartFrame(&b, "Delivery attempts per "+rg.StepLabel+" over the last "+rg.Label, top, "", start, end, rg.Window)
	plotW, plotH := chartW-padL-padR, chartH-padT-padB
	step := plotW / float64(len(series))
	var ok, bad strings.Builder
	for i, s := range series {
		if s.Attempts == 0 {
			continue
		}
		x := padL + step*(float64(i)+0.5)
		yAll := padT + plotH*(1-float64(s.Attempts)/top)
		yFail := padT + plotH*(1-float64(s.Failed)/top)
		base := padT + plotH
		if s.Attempts > s.Failed {
			fmt.Fprintf(&ok, "M%.2f %.2fV%.2f", x, yFail, yAll)
		}
		if s.Failed > 0 {
			fmt.Fprintf(&bad, "M%.2f %.2fV%.2f", x, base, yFail)
		}
	}
	w := max(step*0.8, 1.2)
	if ok.Len() > 0 {
		fmt.Fprintf(&b, `<path class="bar-ok" stroke-width="%.2f" d="%s"/>`, w, ok.String())
	}
	if bad.Len() > 0 {
		fmt.Fprintf(&b, `<path class="bar-bad" stroke-width="%.2f" d="%s"/>`, w, bad.String())
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // built from numbers and fixed text only
}

// failureChart draws the share of failed attempts per bucket of rg.FailStep.
func failureChart(series []agenthooks.AttemptBucket, rg overviewRange) template.HTML {
	if len(series) == 0 {
		return ""
	}
	width := rg.FailStep
	start, end := series[0].Start, series[len(series)-1].Start.Add(rg.Step)
	type agg struct{ n, failed int }
	buckets := make([]agg, int(math.Ceil(float64(end.Sub(start))/float64(width))))
	for _, s := range series {
		i := int(s.Start.Sub(start) / width)
		if i >= 0 && i < len(buckets) {
			buckets[i].n += s.Attempts
			buckets[i].failed += s.Failed
		}
	}
	var b strings.Builder
	chartFrame(&b, "Failure rate per "+rg.FailLabel+" over the last "+rg.Label, 100, "%", start, end, rg.Window)
	plotW, plotH := chartW-padL-padR, chartH-padT-padB
	bw := plotW / float64(len(buckets))
	for i, a := range buckets {
		if a.n == 0 {
			continue
		}
		rate := float64(a.failed) / float64(a.n)
		h := math.Max(plotH*rate, 1.5)
		class := "bar-ok-fill"
		if rate > 0 {
			class = "bar-bad-fill"
		}
		if rate == 0 {
			h = 1.5
		}
		fmt.Fprintf(&b, `<rect class="%s" x="%.2f" y="%.2f" width="%.2f" height="%.2f"><title>%s: %.1f%% of %d failed</title></rect>`,
			class, padL+bw*float64(i)+1, padT+plotH-h, math.Max(bw-2, 1), h, start.Add(width*time.Duration(i)).UTC().Format("2006-01-02 15:04"), 100*rate, a.n)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // built from numbers and fixed text only
}
