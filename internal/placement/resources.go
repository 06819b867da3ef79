// Package placement chooses resource pools for the components of a
// deployment from the pools' free capacity, health, labels and the
// deployment's rules. It is pure: the caller reads pools and reservations
// and stores the plan.
package placement

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/nephoran/o2ims/internal/ims"
)

// Resources is an amount of compute: CPU in millicores, memory in bytes
// and a pod count. A zero field means "none" in an amount held and
// "no requirement" in an amount needed.
type Resources struct {
	CPUMillis   int64
	MemoryBytes int64
	Pods        int64
}

// Add returns r + o.
func (r Resources) Add(o Resources) Resources {
	return Resources{r.CPUMillis + o.CPUMillis, r.MemoryBytes + o.MemoryBytes, r.Pods + o.Pods}
}

// Sub returns r − o; fields may go negative (an over-committed pool).
func (r Resources) Sub(o Resources) Resources {
	return Resources{r.CPUMillis - o.CPUMillis, r.MemoryBytes - o.MemoryBytes, r.Pods - o.Pods}
}

// Times returns r scaled by n.
func (r Resources) Times(n int64) Resources {
	return Resources{r.CPUMillis * n, r.MemoryBytes * n, r.Pods * n}
}

// IsZero reports whether every field is zero.
func (r Resources) IsZero() bool { return r == Resources{} }

// Covers reports whether r holds at least need in every field.
func (r Resources) Covers(need Resources) bool {
	return r.CPUMillis >= need.CPUMillis && r.MemoryBytes >= need.MemoryBytes && r.Pods >= need.Pods
}

// Shortfall names every field in which r holds less than need, e.g.
// "not enough free cpu (1500m free, 2 needed)"; it is empty when r
// covers need.
func (r Resources) Shortfall(need Resources) string {
	var parts []string
	if r.CPUMillis < need.CPUMillis {
		parts = append(parts, fmt.Sprintf("not enough free cpu (%s free, %s needed)", cpu(r.CPUMillis), cpu(need.CPUMillis)))
	}
	if r.MemoryBytes < need.MemoryBytes {
		parts = append(parts, fmt.Sprintf("not enough free memory (%s free, %s needed)", memory(r.MemoryBytes), memory(need.MemoryBytes)))
	}
	if r.Pods < need.Pods {
		parts = append(parts, fmt.Sprintf("not enough free pods (%d free, %d needed)", r.Pods, need.Pods))
	}
	return strings.Join(parts, "; ")
}

// String renders r in the minCapacity syntax, e.g. "cpu:2,memory:4Gi,pods:3".
func (r Resources) String() string {
	return fmt.Sprintf("cpu:%s,memory:%s,pods:%d", cpu(r.CPUMillis), memory(r.MemoryBytes), r.Pods)
}

func cpu(m int64) string { return resource.NewMilliQuantity(m, resource.DecimalSI).String() }

func memory(b int64) string { return resource.NewQuantity(b, resource.BinarySI).String() }

// Limits on parsed amounts: far above any real pool, far below overflow
// when multiplied by replica counts.
const (
	maxCPUMillis   = 1 << 40
	maxMemoryBytes = 1 << 56
	maxPods        = 1 << 30
)

// ParseResources reads a resource list such as "cpu:4,memory:8Gi,pods:10"
// (Kubernetes quantities; every key at most once, any subset of cpu,
// memory and pods).
func ParseResources(s string) (Resources, error) {
	var r Resources
	if len(s) > 256 {
		return r, ims.Errorf(ims.EINVALID, "a resource list is at most 256 characters")
	}
	if strings.TrimSpace(s) == "" {
		return r, ims.Errorf(ims.EINVALID, "a resource list names at least one of cpu, memory and pods, e.g. cpu:4,memory:8Gi,pods:10")
	}
	seen := map[string]bool{}
	for _, item := range strings.Split(s, ",") {
		key, val, ok := strings.Cut(strings.TrimSpace(item), ":")
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		if !ok || val == "" {
			return r, ims.Errorf(ims.EINVALID, "%q is not a resource amount: write name:quantity, e.g. cpu:4", truncate(item))
		}
		if seen[key] {
			return r, ims.Errorf(ims.EINVALID, "%s is given twice", key)
		}
		seen[key] = true
		var err error
		switch key {
		case "cpu":
			r.CPUMillis, err = parseCPU(val)
		case "memory":
			r.MemoryBytes, err = parseMemory(val)
		case "pods":
			r.Pods, err = parseCount(val)
		default:
			return r, ims.Errorf(ims.EINVALID, "%q is not a resource: use cpu, memory or pods", truncate(key))
		}
		if err != nil {
			return r, err
		}
	}
	return r, nil
}

// ParseQuantities reads a container's CPU and memory requests (either may
// be empty).
func ParseQuantities(cpu, memory string) (Resources, error) {
	var r Resources
	var err error
	if cpu != "" {
		if r.CPUMillis, err = parseCPU(cpu); err != nil {
			return r, err
		}
	}
	if memory != "" {
		if r.MemoryBytes, err = parseMemory(memory); err != nil {
			return r, err
		}
	}
	return r, nil
}

func quantity(name, v string) (resource.Quantity, error) {
	q, err := resource.ParseQuantity(v)
	if err != nil {
		return q, ims.Errorf(ims.EINVALID, "%s %q is not a quantity (examples: 500m, 2, 8Gi)", name, truncate(v))
	}
	if q.Sign() < 0 {
		return q, ims.Errorf(ims.EINVALID, "%s %q is negative", name, truncate(v))
	}
	return q, nil
}

func parseCPU(v string) (int64, error) {
	q, err := quantity("cpu", v)
	if err != nil {
		return 0, err
	}
	if q.Cmp(*resource.NewMilliQuantity(maxCPUMillis, resource.DecimalSI)) > 0 {
		return 0, ims.Errorf(ims.EINVALID, "cpu %q is too large", truncate(v))
	}
	return q.MilliValue(), nil
}

func parseMemory(v string) (int64, error) {
	q, err := quantity("memory", v)
	if err != nil {
		return 0, err
	}
	if q.Cmp(*resource.NewQuantity(maxMemoryBytes, resource.BinarySI)) > 0 {
		return 0, ims.Errorf(ims.EINVALID, "memory %q is too large", truncate(v))
	}
	return q.Value(), nil
}

func parseCount(v string) (int64, error) {
	q, err := quantity("pods", v)
	if err != nil {
		return 0, err
	}
	n, ok := q.AsInt64()
	if !ok || q.MilliValue()%1000 != 0 {
		return 0, ims.Errorf(ims.EINVALID, "pods %q is not a whole number", truncate(v))
	}
	if n > maxPods {
		return 0, ims.Errorf(ims.EINVALID, "pods %q is too large", truncate(v))
	}
	return n, nil
}

func truncate(s string) string {
	if len(s) <= 32 {
		return s
	}
	return s[:32] + "…"
}
