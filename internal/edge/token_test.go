package edge

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/ims"
)

func TestCreateTokenValidates(t *testing.T) {
	svc, _ := newTestService(t, Options{})
	tests := []struct {
		name     string
		pool     string
		ttl      time.Duration
		uses     int
		wantCode string
	}{
		{"single use", "edge-west", time.Hour, 1, ""},
		{"limited use", "edge-west", time.Hour, 5, ""},
		{"no pool", "", time.Hour, 1, ims.EINVALID},
		{"pool not a label", "Edge West", time.Hour, 1, ims.EINVALID},
		{"no ttl", "edge-west", 0, 1, ims.EINVALID},
		{"ttl too long", "edge-west", MaxTokenTTL + time.Hour, 1, ims.EINVALID},
		{"no uses", "edge-west", time.Hour, 0, ims.EINVALID},
		{"too many uses", "edge-west", time.Hour, MaxTokenUses + 1, ims.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := svc.CreateToken(context.Background(), tt.pool, tt.ttl, tt.uses, "")
			if got := ims.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("code = %q (%v), want %q", got, err, tt.wantCode)
			}
			if err != nil {
				return
			}
			if !regexp.MustCompile(`^[a-z0-9]{6}\.[a-z0-9]{16}$`).MatchString(tok.Token) || !strings.HasPrefix(tok.Token, tok.ID+".") {
				t.Errorf("token %q (id %s) is not <id>.<secret>", tok.Token, tok.ID)
			}
			if tok.CAHash != svc.ca.Hash() {
				t.Errorf("CA hash %s, want %s", tok.CAHash, svc.ca.Hash())
			}
		})
	}
}

func TestTokensAreStoredHashed(t *testing.T) {
	svc, store := newTestService(t, Options{})
	tok := mustToken(t, svc, "edge-west", time.Hour, 1)
	secret := strings.TrimPrefix(tok.Token, tok.ID+".")
	stored, err := store.Token(context.Background(), tok.ID)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(stored.SecretSHA256, []byte(secret)) || len(stored.SecretSHA256) != 32 {
		t.Errorf("stored secret %x is not a SHA-256 of the secret", stored.SecretSHA256)
	}
	list, err := svc.Tokens(context.Background())
	if err != nil || len(list) != 1 || list[0].Pool != "edge-west" || list[0].MaxUses != 1 {
		t.Fatalf("Tokens = %+v, %v", list, err)
	}
	if err := svc.RevokeToken(context.Background(), tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.authenticateToken(context.Background(), tok.Token); ims.ErrorMessage(err) != "the bootstrap token is not valid" {
		t.Errorf("revoked token: %v", err)
	}
	if err := svc.RevokeToken(context.Background(), tok.ID); ims.ErrorCode(err) != ims.ENOTFOUND {
		t.Errorf("revoking twice: %v", err)
	}
}

func TestEnrolWithToken(t *testing.T) {
	svc, _ := newTestService(t, Options{})
	ctx := context.Background()
	single := mustToken(t, svc, "edge-west", time.Hour, 1)
	double := mustToken(t, svc, "edge-east", time.Hour, 2)
	short := mustToken(t, svc, "edge-west", time.Millisecond, 5)
	time.Sleep(5 * time.Millisecond)
	wrongSecret := single.ID + ".0000000000000000"

	type step struct {
		token, node, pool string
		wantCode, wantMsg string
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"single-use token enrols once", []step{
			{token: single.Token, node: "a1"},
			{token: single.Token, node: "a2", wantCode: ims.EUNAUTHENTICATED, wantMsg: "used as often as it allows"},
		}},
		{"limited-use token enrols twice", []step{
			{token: double.Token, node: "b1"},
			{token: double.Token, node: "b2"},
			{token: double.Token, node: "b3", wantCode: ims.EUNAUTHENTICATED, wantMsg: "used as often as it allows"},
		}},
		{"expired token", []step{{token: short.Token, node: "c1", wantCode: ims.EUNAUTHENTICATED, wantMsg: "has expired"}}},
		{"wrong secret", []step{{token: wrongSecret, node: "d1", wantCode: ims.EUNAUTHENTICATED, wantMsg: "is not valid"}}},
		{"unknown id", []step{{token: "zzzzzz.0000000000000000", node: "d2", wantCode: ims.EUNAUTHENTICATED, wantMsg: "is not valid"}}},
		{"malformed", []step{{token: "not-a-token", node: "d3", wantCode: ims.EUNAUTHENTICATED, wantMsg: "<id>.<secret>"}}},
		{"pool not the token's", []step{{token: double.Token, node: "e1", pool: "edge-west", wantCode: ims.EFORBIDDEN, wantMsg: "into pool edge-east, not edge-west"}}},
		{"name taken", []step{{token: mustToken(t, svc, "edge-west", time.Hour, 1).Token, node: "a1", wantCode: ims.ECONFLICT, wantMsg: "enrolled already"}}},
		{"bad name", []step{{token: mustToken(t, svc, "edge-west", time.Hour, 1).Token, node: "Not_A_Name", wantCode: ims.EINVALID, wantMsg: "not a valid node name"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, s := range tt.steps {
				csr, _ := newCSR(t, s.node)
				resp, err := svc.Enroll(ctx, s.token, EnrollRequest{NodeName: s.node, CSR: csr, Pool: s.pool}, "192.0.2.9")
				if got := ims.ErrorCode(err); got != s.wantCode {
					t.Fatalf("%s: code = %q (%v), want %q", s.node, got, err, s.wantCode)
				}
				if err != nil {
					if !strings.Contains(ims.ErrorMessage(err), s.wantMsg) {
						t.Errorf("%s: message %q lacks %q", s.node, ims.ErrorMessage(err), s.wantMsg)
					}
					continue
				}
				if resp.Status != StatusEnrolled || resp.Certificate == "" || resp.CACertificate == "" {
					t.Errorf("%s: response %+v", s.node, resp)
				}
			}
		})
	}
}

// An enrolment repeated with the same key (an answer lost on the way)
// gets a certificate again without using the token again; another key
// cannot take over the name.
func TestEnrolRepeatedWithTheSameKey(t *testing.T) {
	svc, store := newTestService(t, Options{})
	ctx := context.Background()
	tok := mustToken(t, svc, "edge-west", time.Hour, 1)
	csr, key := newCSR(t, "n1")
	first, err := svc.Enroll(ctx, tok.Token, EnrollRequest{NodeName: "n1", CSR: csr}, "")
	if err != nil {
		t.Fatal(err)
	}
	again, err := svc.Enroll(ctx, tok.Token, EnrollRequest{NodeName: "n1", CSR: csrFor(t, "n1", key)}, "")
	if err != nil {
		t.Fatalf("repeat with the same key: %v", err)
	}
	if again.NodeID != first.NodeID {
		t.Errorf("node id changed: %s then %s", first.NodeID, again.NodeID)
	}
	if st, _ := store.Token(ctx, tok.ID); st.Uses != 1 {
		t.Errorf("token uses = %d, want 1", st.Uses)
	}
	other, _ := newCSR(t, "n1")
	if _, err := svc.Enroll(ctx, tok.Token, EnrollRequest{NodeName: "n1", CSR: other}, ""); ims.ErrorCode(err) != ims.ECONFLICT {
		t.Errorf("another key for the same name: %v, want a conflict", err)
	}
}

func TestManualApproval(t *testing.T) {
	svc, _ := newTestService(t, Options{ManualApproval: true})
	ctx := context.Background()
	tok := mustToken(t, svc, "edge-west", time.Hour, 1)
	csr, _ := newCSR(t, "n1")
	req := EnrollRequest{NodeName: "n1", CSR: csr, Inventory: testInventory("h1")}
	for range 2 {
		resp, err := svc.Enroll(ctx, tok.Token, req, "")
		if err != nil || resp.Status != StatusPending || resp.Certificate != "" || resp.RetryAfterSeconds <= 0 {
			t.Fatalf("before approval: %+v, %v", resp, err)
		}
	}
	if snap, _ := svc.Provider(ProviderOptions{}).Discover(ctx); len(snap.Resources) != 0 {
		t.Errorf("a pending node is published: %+v", snap.Resources)
	}
	if _, err := svc.Approve(ctx, "n1"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Approve(ctx, "n1"); ims.ErrorCode(err) != ims.ECONFLICT {
		t.Errorf("approving twice: %v", err)
	}
	resp, err := svc.Enroll(ctx, tok.Token, req, "")
	if err != nil || resp.Status != StatusEnrolled || resp.Certificate == "" {
		t.Fatalf("after approval: %+v, %v", resp, err)
	}
	if _, err := svc.Approve(ctx, "nobody"); ims.ErrorCode(err) != ims.ENOTFOUND {
		t.Errorf("approving an unknown node: %v", err)
	}
}

// The operator's reads and revocation of tokens, in the API's words.
func TestTokenAdministration(t *testing.T) {
	ctx := context.Background()
	svc, _ := newTestService(t, Options{})
	tok := mustToken(t, svc, "edge-west", time.Hour, 2)
	if want := "o2ims agent --server https://ims:8443 --bootstrap-token " + tok.Token + " --ca-hash " + tok.CAHash + " --pool edge-west"; tok.AgentCommand("https://ims:8443") != want {
		t.Errorf("AgentCommand = %q, want %q", tok.AgentCommand("https://ims:8443"), want)
	}
	enrol(t, svc, tok.Token, "n1")
	got, err := svc.Token(ctx, tok.ID)
	if err != nil || got.Uses != 1 || got.UsesLeft() != 1 || got.Expired(time.Now()) || !got.Expired(got.ExpiresAt) {
		t.Fatalf("token %+v, %v", got, err)
	}
	if err := svc.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"get":    func() error { _, err := svc.Token(ctx, tok.ID); return err }(),
		"revoke": svc.RevokeToken(ctx, tok.ID),
	} {
		if ims.ErrorCode(err) != ims.ENOTFOUND || ims.ErrorMessage(err) != "bootstrap token "+tok.ID+" not found" {
			t.Errorf("%s after revocation: %v", name, err)
		}
	}
	if n := (Token{MaxUses: 1, Uses: 3}).UsesLeft(); n != 0 {
		t.Errorf("UsesLeft of an overused token = %d", n)
	}
}
