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
	Attempts, Failed int
	Backlog          agenthooks.Backlog
	Late             time.Duration // how late the most overdue pending delivery is
	RateChart        template.HTML
	FailureChart     template.HTML
	Problems         []webhookRow // failing or disabled webhooks
	WebhookCount     int
	Peak             int
}

func (d *Dashboard) overview(w http.ResponseWriter, r *http.Request, s *session) error {
	o, err := d.svc.GetOverview(r.Context(), s.account.ID, 24*time.Hour, time.Minute)
	if err != nil {
		return err
	}
	data := overviewData{Attempts: o.Attempts, Failed: o.Failed, Backlog: o.Backlog, WebhookCount: len(o.Webhooks)}
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
	data.RateChart = rateChart(o.Series, o.Now)
	data.FailureChart = failureChart(o.Series, o.Now, time.Hour)
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

func chartFrame(b *strings.Builder, title string, top float64, unit string, start, end time.Time) {
	fmt.Fprintf(b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`, chartW, chartH, template.HTMLEscapeString(title))
	plotH := chartH - padT - padB
	for i := 0; i <= 4; i++ {
		y := padT + plotH*float64(i)/4
		v := top * float64(4-i) / 4
		fmt.Fprintf(b, `<line class="grid" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, padL, y, chartW-padR, y)
		fmt.Fprintf(b, `<text class="axis" x="%.1f" y="%.1f" text-anchor="start">%s%s</text>`, chartW-padR+6, y+4, trimFloat(v), unit)
	}
	span := end.Sub(start)
	for i := 0; i <= 4; i++ {
		x := padL + (chartW-padL-padR)*float64(i)/4
		t := start.Add(span * time.Duration(i) / 4)
		anchor := "middle"
		if i == 0 {
			anchor = "start"
		} else if i == 4 {
			anchor = "end"
		}
		fmt.Fprintf(b, `<text class="axis" x="%.1f" y="%.1f" text-anchor="%s">%s</text>`, x, chartH-6, anchor, t.UTC().Format("15:04"))
	}
}

func trimFloat(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// rateChart draws attempts per minute (failed ones in red on top of the
// successful ones) over the series.
func rateChart(series []agenthooks.AttemptBucket, now time.Time) template.HTML {
	var b strings.Builder
	if len(series) == 0 {
		return ""
	}
	peak := 0
	for _, s := range series {
		peak = max(peak, s.Attempts)
	}
	top := niceMax(float64(peak))
	start, end := series[0].Start, series[len(series)-1].Start.Add(time.Minute)
	chartFrame(&b, "Deliveries per minute over the last 24 hours", top, "", start, end)
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
	w := max(step, 1.2)
	if ok.Len() > 0 {
		fmt.Fprintf(&b, `<path class="bar-ok" stroke-width="%.2f" d="%s"/>`, w, ok.String())
	}
	if bad.Len() > 0 {
		fmt.Fprintf(&b, `<path class="bar-bad" stroke-width="%.2f" d="%s"/>`, w, bad.String())
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // built from numbers and fixed text only
}

// failureChart draws the share of failed attempts per bucket of width.
func failureChart(series []agenthooks.AttemptBucket, now time.Time, width time.Duration) template.HTML {
	if len(series) == 0 {
		return ""
	}
	start, end := series[0].Start, series[len(series)-1].Start.Add(time.Minute)
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
	chartFrame(&b, "Failure rate per hour over the last 24 hours", 100, "%", start, end)
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
			class, padL+bw*float64(i)+1, padT+plotH-h, math.Max(bw-2, 1), h, start.Add(width*time.Duration(i)).UTC().Format("15:04"), 100*rate, a.n)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // built from numbers and fixed text only
}
