package hostsim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strings"
	"time"
)

// Service Bus REST send API limits and audience.
const (
	// MaxMessageBytes is the Standard tier's message size limit (256 KB), which a
	// send to the REST endpoint must respect (the body, or a batch's whole request).
	MaxMessageBytes = 256 * 1024
	// ServiceBusAudience is the audience a bearer token for the REST endpoint must have.
	ServiceBusAudience = "https://servicebus.azure.net"
	// batchContentType marks a batch send.
	batchContentType = "application/vnd.microsoft.servicebus.json"
)

// restServer serves the Service Bus REST send API over the simulated queues:
//
//	POST /{queue}/messages
//
// A single message: the body is the message body, the BrokerProperties header a JSON
// object (MessageId, CorrelationId, ContentType (else the Content-Type header), Label,
// ReplyTo, To, SessionId, PartitionKey, TimeToLive in seconds, ScheduledEnqueueTimeUtc
// in RFC 1123), every other non-standard header a custom property (a JSON value:
// "\"text\"", 3, true; anything else is kept as text). A batch (Content-Type
// application/vnd.microsoft.servicebus.json): a JSON array of {"Body",
// "BrokerProperties", "UserProperties"}. Answers as Service Bus does: 201 sent, 400 bad
// request, 401 no or unusable bearer token (the audience must be
// https://servicebus.azure.net and the token unexpired; the signature is not checked),
// 404 no such queue, 413 over 256 KB, 405 other methods. Duplicate detection and
// scheduled enqueue times are the queue's rules (Queue.Send, Queue.SendScheduled).
type restServer struct {
	queues *queueSet
	srv    *http.Server
	ln     net.Listener
	url    string
}

// startREST listens on a loopback port and serves the REST send API over queues. Only
// queues that exist (bound to a trigger or created with Host.Queue) accept messages.
func startREST(queues *queueSet) (*restServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("hostsim: Service Bus REST endpoint: %w", err)
	}
	r := &restServer{queues: queues, ln: ln, url: "http://" + ln.Addr().String()}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

func (r *restServer) close() { _ = r.srv.Close() }

// restMessage is one message of a batch send.
type restMessage struct {
	Body             string            `json:"Body"`
	BrokerProperties *brokerProperties `json:"BrokerProperties"`
	UserProperties   map[string]any    `json:"UserProperties"`
}

// brokerProperties is the BrokerProperties object of the REST API.
type brokerProperties struct {
	MessageID               string   `json:"MessageId"`
	CorrelationID           string   `json:"CorrelationId"`
	ContentType             string   `json:"ContentType"`
	Label                   string   `json:"Label"`
	ReplyTo                 string   `json:"ReplyTo"`
	To                      string   `json:"To"`
	SessionID               string   `json:"SessionId"`
	PartitionKey            string   `json:"PartitionKey"`
	TimeToLive              *float64 `json:"TimeToLive"`
	ScheduledEnqueueTimeUtc string   `json:"ScheduledEnqueueTimeUtc"`
}

// standardHeaders are not custom properties.
var standardHeaders = map[string]bool{
	"Authorization": true, "Content-Type": true, "Content-Length": true, "Brokerproperties": true,
	"Host": true, "User-Agent": true, "Accept": true, "Accept-Encoding": true, "Connection": true,
	"Transfer-Encoding": true, "Traceparent": true, "Tracestate": true, "Expect": true,
}

func (r *restServer) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	name, ok := strings.CutSuffix(strings.Trim(req.URL.Path, "/"), "/messages")
	if !ok || name == "" {
		http.Error(w, "no such entity", http.StatusNotFound)
		return
	}
	if req.Method != http.MethodPost {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	if err := checkBearer(req.Header.Get("Authorization"), time.Now()); err != nil {
		http.Error(w, "401 Unauthorized: "+err.Error(), http.StatusUnauthorized)
		return
	}
	q, ok := r.queues.lookup(name)
	if !ok {
		http.Error(w, fmt.Sprintf("404 Not Found: the messaging entity %q could not be found", name), http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, MaxMessageBytes+1))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if len(body) > MaxMessageBytes {
		http.Error(w, "413 the request is larger than the 256 KB limit", http.StatusRequestEntityTooLarge)
		return
	}
	ct := req.Header.Get("Content-Type")
	var msgs []restMessage
	if mt, _, _ := mime.ParseMediaType(ct); mt == batchContentType {
		dec := json.NewDecoder(bytes.NewReader(body))
		if err := dec.Decode(&msgs); err != nil || len(msgs) == 0 {
			http.Error(w, "400 a batch is a non-empty JSON array of messages", http.StatusBadRequest)
			return
		}
	} else {
		m := restMessage{Body: string(body), BrokerProperties: &brokerProperties{}, UserProperties: map[string]any{}}
		if bp := req.Header.Get("BrokerProperties"); bp != "" {
			if err := json.Unmarshal([]byte(bp), m.BrokerProperties); err != nil {
				http.Error(w, "400 BrokerProperties is not a JSON object: "+err.Error(), http.StatusBadRequest)
				return
			}
		}
		if m.BrokerProperties.ContentType == "" {
			m.BrokerProperties.ContentType = ct
		}
		for k, vs := range req.Header {
			if standardHeaders[k] || strings.HasPrefix(k, "X-") || len(vs) == 0 {
				continue
			}
			var v any
			if err := json.Unmarshal([]byte(vs[0]), &v); err != nil {
				v = vs[0]
			}
			m.UserProperties[strings.ToLower(k)] = v
		}
		msgs = []restMessage{m}
	}
	type pending struct {
		body []byte
		opts MessageOptions
		at   time.Time
	}
	out := make([]pending, 0, len(msgs))
	for i, m := range msgs {
		p := pending{body: []byte(m.Body)}
		bp := m.BrokerProperties
		if bp == nil {
			bp = &brokerProperties{}
		}
		if len(bp.MessageID) > 128 {
			http.Error(w, fmt.Sprintf("400 message %d: MessageId is longer than 128 characters", i), http.StatusBadRequest)
			return
		}
		p.opts = MessageOptions{MessageID: bp.MessageID, CorrelationID: bp.CorrelationID, ContentType: bp.ContentType,
			Subject: bp.Label, ReplyTo: bp.ReplyTo, To: bp.To, SessionID: bp.SessionID, PartitionKey: bp.PartitionKey,
			ApplicationProperties: m.UserProperties}
		if bp.TimeToLive != nil {
			p.opts.TimeToLive = time.Duration(*bp.TimeToLive * float64(time.Second))
		}
		if bp.ScheduledEnqueueTimeUtc != "" {
			at, err := time.Parse(time.RFC1123, bp.ScheduledEnqueueTimeUtc)
			if err != nil {
				http.Error(w, fmt.Sprintf("400 message %d: ScheduledEnqueueTimeUtc %q is not an RFC 1123 date", i, bp.ScheduledEnqueueTimeUtc), http.StatusBadRequest)
				return
			}
			p.at = at
		}
		out = append(out, p)
	}
	for _, p := range out {
		if p.at.IsZero() {
			q.Send(p.body, &p.opts)
		} else {
			q.SendScheduled(p.body, &p.opts, p.at)
		}
	}
	w.WriteHeader(http.StatusCreated)
}

// checkBearer checks that the Authorization header carries an unexpired JWT for the
// Service Bus audience (the claims only: the simulator cannot check a signature).
func checkBearer(header string, now time.Time) error {
	tok, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || tok == "" {
		return errors.New("a bearer token is required")
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return errors.New("the token is not a JWT")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return errors.New("the token is not a JWT")
	}
	var claims struct {
		Aud any     `json:"aud"`
		Exp float64 `json:"exp"`
	}
	if err := json.Unmarshal(raw, &claims); err != nil {
		return errors.New("the token is not a JWT")
	}
	aud, _ := claims.Aud.(string)
	if strings.TrimSuffix(aud, "/") != ServiceBusAudience {
		return fmt.Errorf("the token's audience %q is not %s", aud, ServiceBusAudience)
	}
	if claims.Exp == 0 || now.After(time.Unix(int64(claims.Exp), 0)) {
		return errors.New("the token has expired")
	}
	return nil
}
