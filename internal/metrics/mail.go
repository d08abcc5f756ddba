package metrics

import "github.com/prometheus/client_golang/prometheus"

// Mail results, the values of the result label of latchkey_mails_total.
const (
	MailSent    = "sent"    // handed to the mail server
	MailRetried = "retried" // failed; the outbox tries again later
	MailFailed  = "failed"  // failed for good; the outbox gave up
)

func newMailCounter() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: "latchkey_mails_total",
		Help: "Mails the outbox sent, or failed to send (retried later, or given up), by result."}, []string{"result"})
}

// Mail counts one outbox send with result (MailSent, MailRetried or MailFailed, else Other).
func (m *Metrics) Mail(result string) {
	if m == nil {
		return
	}
	if result != MailSent && result != MailRetried && result != MailFailed {
		result = Other
	}
	m.mails.WithLabelValues(result).Inc()
}
