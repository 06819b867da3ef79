package local

import (
	"strings"

	"github.com/google/uuid"
)

// namespaceName scopes the ids of this provider, so ids cannot collide with
// UUIDv5 values other software derives from the same machine identity.
const namespaceName = "urn:nephoran:o2ims:provider:local"

// idMinter derives object ids from natural keys. Ids are UUIDv5 under a
// per-machine namespace, so rediscovering an unchanged machine, even after a
// restart, reproduces the same ids, while two machines never share one.
type idMinter struct {
	ns uuid.UUID
}

// newIDMinter returns a minter for the machine whose identity is given. The
// identity carries its source as a prefix ("machine-id:…") so that, say, a
// hostname can never alias a machine-id.
func newIDMinter(identity string) idMinter {
	root := uuid.NewSHA1(uuid.NameSpaceURL, []byte(namespaceName))
	return idMinter{ns: uuid.NewSHA1(root, []byte(identity))}
}

// id returns the id for the object with the given natural key.
func (m idMinter) id(key string) string {
	return uuid.NewSHA1(m.ns, []byte(key)).String()
}

// keyPart escapes a component of a multi-part natural key, so that a "/"
// inside a vendor or model string cannot make two different tuples produce
// the same key.
func keyPart(s string) string {
	return strings.NewReplacer("%", "%25", "/", "%2F").Replace(s)
}

// assignKeys picks a natural key for each of a set of devices: its preferred
// key (a serial number, a MAC address) where that is unique, and its
// fallback (the kernel name, unique by construction) otherwise. Preferred
// keys are not always unique: bonded NICs share a MAC and multipath disks
// share a serial, and duplicate ids would corrupt the inventory.
func assignKeys(preferred, fallback []string) []string {
	keys := make([]string, len(fallback))
	usePreferred := make([]bool, len(fallback))
	for i := range fallback {
		usePreferred[i] = preferred[i] != ""
	}
	for {
		count := map[string]int{}
		for i := range keys {
			if usePreferred[i] {
				keys[i] = preferred[i]
			} else {
				keys[i] = fallback[i]
			}
			count[keys[i]]++
		}
		changed := false
		for i := range keys {
			if usePreferred[i] && count[keys[i]] > 1 {
				usePreferred[i] = false
				changed = true
			}
		}
		if !changed {
			return keys
		}
	}
}
