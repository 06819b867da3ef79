package ec2test

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/xml"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// CloudFormationAPIVersion is the CloudFormation API version the SDK
// speaks.
const CloudFormationAPIVersion = "2010-05-15"

// CloudFormationThrottled is CloudFormation's throttling answer.
func CloudFormationThrottled() APIError {
	return APIError{Status: http.StatusBadRequest, Code: "Throttling", Message: "Rate exceeded"}
}

// InsufficientCapacity is EC2's answer to a launch of an instance type
// the zone has no capacity for.
func InsufficientCapacity(instanceType, zone string) APIError {
	return APIError{Status: http.StatusInternalServerError, Code: "InsufficientInstanceCapacity", Message: fmt.Sprintf(
		"We currently do not have sufficient %s capacity in the Availability Zone you requested (%s). Our system will be working on provisioning additional capacity. You can currently get %s capacity by not specifying an Availability Zone in your request or choosing a different Availability Zone.",
		instanceType, zone, instanceType)}
}

// SecurityGroup is a security group a stack created.
type SecurityGroup struct {
	ID, VPCID, Description string
	Ingress                []IngressRule
}

// IngressRule is one inbound rule of a security group.
type IngressRule struct {
	Protocol         string
	FromPort, ToPort int
	CIDR             string
}

// StackEvent is one event of a stack, as DescribeStackEvents lists it.
type StackEvent struct {
	ID, LogicalID, PhysicalID, ResourceType, Status, Reason string
	Time                                                    time.Time
}

// cloudFormation is the server's stacks and what they created.
type cloudFormation struct {
	stacks []*stack
	groups []SecurityGroup
	// refused are the instance types a launch is refused for, with the
	// error.
	refused map[string]APIError
	// launched are the instances stacks launched; their states move on
	// with each step.
	launched map[string]bool
	clock    time.Time
}

func newCloudFormation() cloudFormation {
	return cloudFormation{refused: map[string]APIError{}, launched: map[string]bool{}, clock: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
}

type stack struct {
	name, id, status, reason string
	// token is CreateStack's ClientRequestToken: a repeated CreateStack
	// with it answers the same stack.
	token     string
	onFailure string
	created   time.Time
	updated   time.Time
	deleted   time.Time
	stage     int
	spec      stackSpec
	// previous is the spec an update replaced, restored by its rollback.
	previous  stackSpec
	resources map[string]*stackResource
	events    []StackEvent // oldest first
}

// stackSpec is what a CreateStack or UpdateStack asked for.
type stackSpec struct {
	body   string
	t      *template
	params map[string]string
	tags   map[string]string
}

type stackResource struct {
	logicalID, typ, physicalID, status, reason string
	time                                       time.Time
	props                                      map[string]any
	// next are the properties an update applies.
	next map[string]any
}

// RefuseInstanceType makes every launch of the instance type (by a
// stack's creation or update) fail with e, such as InsufficientCapacity;
// a zero e lets it launch again.
func (s *Server) RefuseInstanceType(instanceType string, e APIError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.Code == "" {
		delete(s.cfn.refused, instanceType)
		return
	}
	s.cfn.refused[instanceType] = e
}

// SecurityGroups returns the security groups stacks created and have not
// deleted.
func (s *Server) SecurityGroups() []SecurityGroup {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.cfn.groups)
}

// StackStatus returns the status of the stack with the given name or id
// (the newest of that name).
func (s *Server) StackStatus(nameOrID string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.findStack(nameOrID, true)
	if st == nil {
		return "", false
	}
	return st.status, true
}

// Step moves every operation in progress on by one step: instances
// launched by stacks go from pending to running and from shutting-down
// to terminated, and stacks take their next step. Unless
// Options.ManualSteps is set, each DescribeStacks request takes a step
// first, so that a client polling a stack sees it progress.
func (s *Server) Step() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.step()
}

func (s *Server) step() {
	for i := range s.instances {
		in := &s.instances[i]
		if !s.cfn.launched[in.ID] {
			continue
		}
		switch in.State {
		case "pending":
			in.State = "running"
		case "shutting-down":
			in.State = "terminated"
			delete(s.cfn.launched, in.ID)
		}
	}
	for _, st := range s.cfn.stacks {
		s.advance(st)
	}
}

func (s *Server) now() time.Time {
	s.cfn.clock = s.cfn.clock.Add(time.Second)
	return s.cfn.clock
}

func (s *Server) newID() int {
	s.seq++
	return s.seq
}

// findStack finds a stack by id, or the live stack of a name (any of the
// name, the newest first, with deleted).
func (s *Server) findStack(nameOrID string, deleted bool) *stack {
	for i := len(s.cfn.stacks) - 1; i >= 0; i-- {
		st := s.cfn.stacks[i]
		if st.id == nameOrID {
			return st
		}
		if st.name == nameOrID && (deleted || st.status != "DELETE_COMPLETE") {
			return st
		}
	}
	return nil
}

func (st *stack) event(t time.Time, logicalID, physicalID, typ, status, reason string) {
	st.events = append(st.events, StackEvent{
		ID: fmt.Sprintf("%s-%s-%d", logicalID, status, len(st.events)), LogicalID: logicalID, PhysicalID: physicalID,
		ResourceType: typ, Status: status, Reason: reason, Time: t,
	})
}

func (s *Server) setStack(st *stack, status, reason string) {
	st.status, st.reason = status, reason
	st.event(s.now(), st.name, st.id, "AWS::CloudFormation::Stack", status, reason)
}

func (s *Server) setResource(st *stack, r *stackResource, status, reason string) {
	r.status, r.reason, r.time = status, reason, s.now()
	st.event(r.time, r.logicalID, r.physicalID, r.typ, status, reason)
}

// order lists a spec's resources that its conditions keep, security
// groups before instances (which refer to them).
func (sp stackSpec) order(ev *evaluation) ([]string, error) {
	var groups, instances []string
	for _, name := range slices.Sorted(maps.Keys(sp.t.Resources)) {
		r := sp.t.Resources[name]
		if r.Condition != "" {
			ok, err := ev.condition(r.Condition)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
		}
		if r.Type == typeSecurityGroup {
			groups = append(groups, name)
		} else {
			instances = append(instances, name)
		}
	}
	return append(groups, instances...), nil
}

func (s *Server) evaluation(st *stack, sp stackSpec) *evaluation {
	return &evaluation{
		t: sp.t, params: sp.params, conditions: map[string]bool{},
		pseudo: map[string]string{"AWS::StackName": st.name, "AWS::StackId": st.id, "AWS::Region": s.opts.Region, "AWS::AccountId": s.opts.OwnerID,
			"AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"},
		attribute: func(logicalID, attr string) (string, bool) {
			r := st.resources[logicalID]
			if r == nil || r.physicalID == "" {
				return "", false
			}
			switch {
			case attr == "" || (r.typ == typeSecurityGroup && attr == "GroupId"):
				return r.physicalID, true
			case r.typ == typeInstance:
				in := s.instance(r.physicalID)
				if in == nil {
					return "", false
				}
				switch attr {
				case "PrivateIp":
					return in.PrivateIPs[0], true
				case "AvailabilityZone":
					return s.subnet(in.SubnetID).Zone, true
				}
			}
			return "", false
		},
	}
}

func (s *Server) instance(id string) *Instance {
	for i := range s.instances {
		if s.instances[i].ID == id {
			return &s.instances[i]
		}
	}
	return nil
}

// handlerError is how CloudFormation reports a failed call of a
// resource's handler in the resource's StatusReason.
func (s *Server) handlerError(e APIError) string {
	return fmt.Sprintf(`Resource handler returned message: "%s" (Service: Ec2, Status Code: %d, Request ID: %s) (HandlerErrorCode: GeneralServiceException)`,
		e.Message, e.Status, s.requestIDLocked())
}

// advance takes a stack's next step.
func (s *Server) advance(st *stack) {
	switch st.status {
	case "CREATE_IN_PROGRESS":
		if st.stage == 0 {
			st.stage = 1
			ev := s.evaluation(st, st.spec)
			order, err := st.spec.order(ev)
			if err != nil {
				s.createFailed(st, "", err.Error())
				return
			}
			for _, name := range order {
				r := &stackResource{logicalID: name, typ: st.spec.t.Resources[name].Type}
				st.resources[name] = r
				s.setResource(st, r, "CREATE_IN_PROGRESS", "")
				props, err := ev.eval(st.spec.t.Resources[name].Properties)
				if err != nil {
					s.setResource(st, r, "CREATE_FAILED", err.Error())
					s.createFailed(st, name, "")
					return
				}
				r.props, _ = props.(map[string]any)
				if e := s.create(st, r); e != nil {
					s.setResource(st, r, "CREATE_FAILED", s.handlerError(*e))
					s.createFailed(st, name, "")
					return
				}
				if r.typ == typeSecurityGroup {
					s.setResource(st, r, "CREATE_COMPLETE", "")
				} else {
					s.setResource(st, r, "CREATE_IN_PROGRESS", "Resource creation Initiated")
				}
			}
			return
		}
		if s.settled(st, "CREATE_IN_PROGRESS", "CREATE_COMPLETE") {
			s.setStack(st, "CREATE_COMPLETE", "")
		}
	case "ROLLBACK_IN_PROGRESS":
		s.deleteResources(st)
		if s.settled(st, "DELETE_IN_PROGRESS", "DELETE_COMPLETE") {
			s.setStack(st, "ROLLBACK_COMPLETE", "")
		}
	case "DELETE_IN_PROGRESS":
		s.deleteResources(st)
		if s.settled(st, "DELETE_IN_PROGRESS", "DELETE_COMPLETE") {
			st.deleted = s.now()
			s.setStack(st, "DELETE_COMPLETE", "")
		}
	case "UPDATE_IN_PROGRESS":
		if st.stage == 0 {
			st.stage = 1
			for _, name := range slices.Sorted(maps.Keys(st.resources)) {
				r := st.resources[name]
				if r.next == nil {
					continue
				}
				s.setResource(st, r, "UPDATE_IN_PROGRESS", "")
				if e := s.update(st, r); e != nil {
					s.setResource(st, r, "UPDATE_FAILED", s.handlerError(*e))
					st.spec, st.stage = st.previous, 0
					s.setStack(st, "UPDATE_ROLLBACK_IN_PROGRESS", "The following resource(s) failed to update: ["+name+"]. ")
					return
				}
			}
			return
		}
		if s.settled(st, "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE") {
			s.setStack(st, "UPDATE_COMPLETE", "")
		}
	case "UPDATE_ROLLBACK_IN_PROGRESS":
		for _, name := range slices.Sorted(maps.Keys(st.resources)) {
			if r := st.resources[name]; r.status == "UPDATE_FAILED" || r.status == "UPDATE_IN_PROGRESS" {
				r.next = nil
				s.setResource(st, r, "UPDATE_COMPLETE", "")
			}
		}
		s.setStack(st, "UPDATE_ROLLBACK_COMPLETE", "")
	}
}

// createFailed fails a creation: the stack rolls back, stays failed or
// is deleted, as OnFailure says.
func (s *Server) createFailed(st *stack, failed, reason string) {
	if failed != "" {
		reason = "The following resource(s) failed to create: [" + failed + "]. "
	}
	for _, name := range slices.Sorted(maps.Keys(st.resources)) {
		if r := st.resources[name]; r.status == "CREATE_IN_PROGRESS" {
			s.setResource(st, r, "CREATE_FAILED", "Resource creation cancelled")
		}
	}
	switch st.onFailure {
	case "DO_NOTHING":
		s.setStack(st, "CREATE_FAILED", reason)
	case "DELETE":
		s.setStack(st, "DELETE_IN_PROGRESS", reason)
	default:
		s.setStack(st, "ROLLBACK_IN_PROGRESS", reason+"Rollback requested by user.")
	}
}

// settled moves the resources whose instances reached running from
// inProgress to complete (security groups at once), and tells whether
// every resource is complete.
func (s *Server) settled(st *stack, inProgress, complete string) bool {
	all := true
	for _, name := range slices.Sorted(maps.Keys(st.resources)) {
		r := st.resources[name]
		if r.status != inProgress {
			if r.status != complete && !strings.HasSuffix(r.status, "_COMPLETE") {
				all = false
			}
			continue
		}
		done := true
		if r.typ == typeInstance && r.physicalID != "" {
			want := "running"
			if strings.HasPrefix(complete, "DELETE") {
				want = "terminated"
			}
			done = s.instance(r.physicalID).State == want
		}
		if done {
			s.setResource(st, r, complete, "")
		} else {
			all = false
		}
	}
	return all
}

// deleteResources starts the deletion of a stack's resources: instances
// shut down, security groups go at once.
func (s *Server) deleteResources(st *stack) {
	for _, name := range slices.Sorted(maps.Keys(st.resources)) {
		r := st.resources[name]
		if r.status == "DELETE_COMPLETE" || r.status == "DELETE_IN_PROGRESS" {
			continue
		}
		if r.physicalID == "" {
			s.setResource(st, r, "DELETE_COMPLETE", "")
			continue
		}
		s.setResource(st, r, "DELETE_IN_PROGRESS", "")
		switch r.typ {
		case typeInstance:
			if in := s.instance(r.physicalID); in != nil && in.State != "terminated" {
				in.State = "shutting-down"
				s.cfn.launched[in.ID] = true
			}
		case typeSecurityGroup:
			s.cfn.groups = slices.DeleteFunc(s.cfn.groups, func(g SecurityGroup) bool { return g.ID == r.physicalID })
		}
	}
}

func prop(props map[string]any, key string) string {
	v, _ := props[key].(string)
	return v
}

func propList(props map[string]any, key string) []string {
	var out []string
	l, _ := props[key].([]any)
	for _, v := range l {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// create creates a resource as the EC2 object it stands for.
func (s *Server) create(st *stack, r *stackResource) *APIError {
	switch r.typ {
	case typeSecurityGroup:
		g := SecurityGroup{ID: fmt.Sprintf("sg-%017x", 0xa0000+s.newID()), VPCID: prop(r.props, "VpcId"), Description: prop(r.props, "GroupDescription")}
		if g.Description == "" {
			return &APIError{http.StatusBadRequest, "MissingParameter", "The request must contain the parameter groupDescription"}
		}
		if !slices.ContainsFunc(s.vpcs, func(v VPC) bool { return v.ID == g.VPCID }) {
			return &APIError{http.StatusBadRequest, "InvalidVpcID.NotFound", fmt.Sprintf("The vpc ID '%s' does not exist", g.VPCID)}
		}
		rules, _ := r.props["SecurityGroupIngress"].([]any)
		for _, x := range rules {
			m, _ := x.(map[string]any)
			from, _ := strconv.Atoi(prop(m, "FromPort"))
			to, _ := strconv.Atoi(prop(m, "ToPort"))
			g.Ingress = append(g.Ingress, IngressRule{Protocol: prop(m, "IpProtocol"), FromPort: from, ToPort: to, CIDR: prop(m, "CidrIp")})
		}
		s.cfn.groups = append(s.cfn.groups, g)
		r.physicalID = g.ID
	case typeInstance:
		in, e := s.launch(st, r.logicalID, r.props)
		if e != nil {
			return e
		}
		s.instances = append(s.instances, in)
		s.cfn.launched[in.ID] = true
		r.physicalID = in.ID
	}
	return nil
}

// launch checks an instance's properties as RunInstances would and
// returns the new, pending instance.
func (s *Server) launch(st *stack, logicalID string, props map[string]any) (Instance, *APIError) {
	typ, subnetID := prop(props, "InstanceType"), prop(props, "SubnetId")
	if subnetID == "" {
		return Instance{}, &APIError{http.StatusBadRequest, "MissingParameter", "this test server launches instances only into a SubnetId"}
	}
	sn := s.subnet(subnetID)
	if e := s.launchable(typ, subnetID); e != nil {
		return Instance{}, e
	}
	if prop(props, "ImageId") == "" {
		return Instance{}, &APIError{http.StatusBadRequest, "MissingParameter", "The request must contain the parameter ImageId"}
	}
	groups := propList(props, "SecurityGroupIds")
	for _, g := range groups {
		if !slices.ContainsFunc(s.cfn.groups, func(x SecurityGroup) bool { return x.ID == g }) {
			return Instance{}, &APIError{http.StatusBadRequest, "InvalidGroup.NotFound", fmt.Sprintf("The security group '%s' does not exist", g)}
		}
	}
	userData := prop(props, "UserData")
	if raw, err := base64.StdEncoding.DecodeString(userData); err != nil {
		return Instance{}, &APIError{http.StatusBadRequest, "InvalidParameterValue", "Invalid BASE64 encoding of user data."}
	} else if len(raw) > 16384 {
		return Instance{}, &APIError{http.StatusBadRequest, "InvalidParameterValue", "User data is limited to 16384 bytes"}
	}
	n := s.newID()
	in := Instance{
		ID: fmt.Sprintf("i-%017x", 0xc0000+n), ImageID: prop(props, "ImageId"), Type: typ, SubnetID: subnetID, State: "pending",
		PrivateIPs: []string{hostIP(sn.CIDR, 10+n)}, LaunchTime: s.now(), KeyName: prop(props, "KeyName"), SecurityGroupIDs: groups, UserData: userData,
	}
	in.Tags = instanceTags(st, logicalID, props)
	return in, nil
}

// launchable tells why an instance type cannot run in a subnet, if so.
func (s *Server) launchable(typ, subnetID string) *APIError {
	sn := s.subnet(subnetID)
	if _, ok := s.types[typ]; !ok {
		return &APIError{http.StatusBadRequest, "InvalidParameterValue", fmt.Sprintf("Invalid value '%s' for InstanceType.", typ)}
	}
	if e, ok := s.cfn.refused[typ]; ok {
		if e.Code == "InsufficientInstanceCapacity" {
			e = InsufficientCapacity(typ, sn.Zone)
		}
		return &e
	}
	if sn.ID == "" {
		return &APIError{http.StatusBadRequest, "InvalidSubnetID.NotFound", fmt.Sprintf("The subnet ID '%s' does not exist", subnetID)}
	}
	return nil
}

// instanceTags are the tags CloudFormation gives an instance: the
// stack's, its own, and the aws:cloudformation ones.
func instanceTags(st *stack, logicalID string, props map[string]any) map[string]string {
	tags := maps.Clone(st.spec.tags)
	if tags == nil {
		tags = map[string]string{}
	}
	own, _ := props["Tags"].([]any)
	for _, t := range own {
		m, _ := t.(map[string]any)
		tags[prop(m, "Key")] = prop(m, "Value")
	}
	tags["aws:cloudformation:stack-name"] = st.name
	tags["aws:cloudformation:stack-id"] = st.id
	tags["aws:cloudformation:logical-id"] = logicalID
	return tags
}

// hostIP is the n-th address of a CIDR block.
func hostIP(cidr string, n int) string {
	_, block, err := net.ParseCIDR(cidr)
	if err != nil || block.IP.To4() == nil {
		return fmt.Sprintf("10.255.%d.%d", n/250%250, n%250+1)
	}
	ip := binary.BigEndian.Uint32(block.IP.To4()) + uint32(n)
	out := make(net.IP, 4)
	binary.BigEndian.PutUint32(out, ip)
	return out.String()
}

// update applies an update's new properties: an instance is stopped and
// started again with them (it keeps its id); a security group's rules
// are replaced.
func (s *Server) update(st *stack, r *stackResource) *APIError {
	switch r.typ {
	case typeInstance:
		in := s.instance(r.physicalID)
		typ := prop(r.next, "InstanceType")
		if e := s.launchable(typ, in.SubnetID); e != nil {
			return e
		}
		if sn := prop(r.next, "SubnetId"); sn != in.SubnetID {
			return &APIError{http.StatusBadRequest, "InvalidParameterCombination", "this test server cannot move an instance to another subnet"}
		}
		in.Type, in.KeyName, in.UserData, in.ImageID = typ, prop(r.next, "KeyName"), prop(r.next, "UserData"), prop(r.next, "ImageId")
		in.SecurityGroupIDs, in.Tags = propList(r.next, "SecurityGroupIds"), instanceTags(st, r.logicalID, r.next)
		in.State = "pending"
		s.cfn.launched[in.ID] = true
	case typeSecurityGroup:
		old := r.props
		r.props = r.next
		s.cfn.groups = slices.DeleteFunc(s.cfn.groups, func(g SecurityGroup) bool { return g.ID == r.physicalID })
		id := r.physicalID
		if e := s.create(st, r); e != nil {
			r.props = old
			return e
		}
		s.cfn.groups[len(s.cfn.groups)-1].ID, r.physicalID = id, id
	}
	r.props, r.next = r.next, nil
	return nil
}

var (
	validStackName = regexp.MustCompile(`^[a-zA-Z][-a-zA-Z0-9]{0,127}$`)
	validToken     = regexp.MustCompile(`^[a-zA-Z0-9][-a-zA-Z0-9]{0,127}$`)
)

// members reads a list of structures: prefix.member.N.field.
func members(p url.Values, prefix string, fields ...string) []map[string]string {
	var out []map[string]string
	for i := 1; ; i++ {
		m := map[string]string{}
		for _, f := range fields {
			if v, ok := p[prefix+".member."+strconv.Itoa(i)+"."+f]; ok {
				m[f] = v[0]
			}
		}
		if len(m) == 0 {
			return out
		}
		out = append(out, m)
	}
}

// spec reads the template, parameters and tags of a CreateStack or
// UpdateStack; prev is the stack's current spec for an update.
func (s *Server) spec(p url.Values, prev *stackSpec) (stackSpec, *APIError) {
	var sp stackSpec
	switch {
	case p.Get("TemplateURL") != "":
		return sp, validation("this test server takes TemplateBody, not TemplateURL")
	case p.Get("TemplateBody") != "":
		sp.body = p.Get("TemplateBody")
	case prev != nil && p.Get("UsePreviousTemplate") == "true":
		sp.body = prev.body
	default:
		return sp, validation("Either Template URL or Template Body must be specified.")
	}
	t, e := parseTemplate(sp.body)
	if e != nil {
		return sp, e
	}
	sp.t = t
	given := map[string]string{}
	var unknown []string
	for _, m := range members(p, "Parameters", "ParameterKey", "ParameterValue", "UsePreviousValue") {
		k := m["ParameterKey"]
		if _, ok := t.Parameters[k]; !ok {
			unknown = append(unknown, k)
			continue
		}
		if m["UsePreviousValue"] == "true" && prev != nil {
			if v, ok := prev.params[k]; ok {
				given[k] = v
				continue
			}
		}
		given[k] = m["ParameterValue"]
	}
	if len(unknown) > 0 {
		return sp, validation("Parameters: [%s] do not exist in the template", strings.Join(unknown, ", "))
	}
	sp.params = map[string]string{}
	var missing []string
	for _, name := range slices.Sorted(maps.Keys(t.Parameters)) {
		def := t.Parameters[name]
		v, ok := given[name]
		if !ok {
			if def.Default == nil {
				missing = append(missing, name)
				continue
			}
			v = fmt.Sprint(def.Default)
		}
		if len(def.AllowedValues) > 0 && !slices.ContainsFunc(def.AllowedValues, func(a any) bool { return fmt.Sprint(a) == v }) {
			return sp, validation("Parameter '%s' must be one of AllowedValues", name)
		}
		switch {
		case strings.HasPrefix(def.Type, "AWS::SSM::Parameter::Value<"):
			// An SSM parameter (the latest image, say) resolves to a
			// fixed image.
			v = "ami-0c0ffee0c0ffee000"
		case def.Type == "AWS::EC2::Subnet::Id" && !slices.ContainsFunc(s.subnets, func(x Subnet) bool { return x.ID == v }),
			def.Type == "AWS::EC2::VPC::Id" && !slices.ContainsFunc(s.vpcs, func(x VPC) bool { return x.ID == v }):
			return sp, validation("Parameter validation failed: parameter value %s for parameter name %s does not exist. Rollback requested by user.", v, name)
		}
		sp.params[name] = v
	}
	if len(missing) > 0 {
		return sp, validation("Parameters: [%s] must have values", strings.Join(missing, ", "))
	}
	tags := members(p, "Tags", "Key", "Value")
	if len(tags) > 0 || prev == nil {
		sp.tags = map[string]string{}
		for _, m := range tags {
			sp.tags[m["Key"]] = m["Value"]
		}
	} else {
		sp.tags = prev.tags
	}
	return sp, nil
}

// cloudFormation answers a CloudFormation action; the caller holds mu.
func (s *Server) cloudFormation(action string, p url.Values) (any, *APIError) {
	if tok, ok := p["ClientRequestToken"]; ok && !validToken.MatchString(tok[0]) {
		return nil, validation("1 validation error detected: Value '%s' at 'clientRequestToken' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9][-a-zA-Z0-9]*", tok[0])
	}
	resp := cfnResponse{XMLName: xml.Name{Local: action + "Response"}, Xmlns: cfnXmlns}
	resp.Metadata.RequestID = s.requestIDLocked()
	result := &cfnResult{XMLName: xml.Name{Local: action + "Result"}}
	resp.Result = result
	var e *APIError
	switch action {
	case "CreateStack":
		result.StackID, e = s.createStack(p)
	case "UpdateStack":
		result.StackID, e = s.updateStack(p)
	case "DeleteStack":
		e = s.deleteStack(p)
		resp.Result = nil
	case "DescribeStacks":
		e = s.describeStacks(p, result)
	case "DescribeStackEvents":
		e = s.describeStackEvents(p, result)
	case "DescribeStackResources":
		e = s.describeStackResources(p, result)
	default:
		e = &APIError{http.StatusBadRequest, "InvalidAction", fmt.Sprintf("The action %s is not valid for this web service.", action)}
	}
	if e != nil {
		return nil, e
	}
	return resp, nil
}

func (s *Server) createStack(p url.Values) (string, *APIError) {
	name := p.Get("StackName")
	if !validStackName.MatchString(name) {
		return "", validation("1 validation error detected: Value '%s' at 'stackName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*", name)
	}
	token := p.Get("ClientRequestToken")
	if st := s.findStack(name, false); st != nil {
		if token != "" && st.token == token {
			return st.id, nil
		}
		return "", &APIError{http.StatusBadRequest, "AlreadyExistsException", fmt.Sprintf("Stack [%s] already exists", name)}
	}
	onFailure := p.Get("OnFailure")
	if p.Get("DisableRollback") == "true" {
		if onFailure != "" {
			return "", validation("You may not specify both OnFailure and DisableRollback")
		}
		onFailure = "DO_NOTHING"
	}
	n := s.newID()
	st := &stack{
		name: name, id: fmt.Sprintf("arn:aws:cloudformation:%s:%s:stack/%s/%08x-0000-4000-8000-%012x", s.opts.Region, s.opts.OwnerID, name, n, n),
		token: token, onFailure: onFailure, resources: map[string]*stackResource{},
	}
	sp, e := s.spec(p, nil)
	if e != nil {
		return "", e
	}
	st.spec = sp
	st.created = s.now()
	s.cfn.stacks = append(s.cfn.stacks, st)
	s.setStack(st, "CREATE_IN_PROGRESS", "User Initiated")
	return st.id, nil
}

func (s *Server) updateStack(p url.Values) (string, *APIError) {
	name := p.Get("StackName")
	st := s.findStack(name, false)
	if st == nil {
		return "", validation("Stack [%s] does not exist", name)
	}
	switch st.status {
	case "CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE":
	default:
		return "", validation("Stack:%s is in %s state and can not be updated.", st.id, st.status)
	}
	sp, e := s.spec(p, &st.spec)
	if e != nil {
		return "", e
	}
	if sp.body == st.spec.body && maps.Equal(sp.params, st.spec.params) && maps.Equal(sp.tags, st.spec.tags) {
		return "", validation("No updates are to be performed.")
	}
	ev := s.evaluation(st, sp)
	order, err := sp.order(ev)
	if err != nil {
		return "", validation("%v", err)
	}
	if !sameSet(order, slices.Collect(maps.Keys(st.resources))) {
		return "", validation("this test server updates the properties of a stack's resources, it does not add or remove resources")
	}
	next := map[string]map[string]any{}
	for _, name := range order {
		props, err := ev.eval(sp.t.Resources[name].Properties)
		if err != nil {
			return "", validation("%v", err)
		}
		m, _ := props.(map[string]any)
		if !reflect.DeepEqual(m, st.resources[name].props) || !maps.Equal(sp.tags, st.spec.tags) {
			next[name] = m
		}
	}
	for name, r := range st.resources {
		r.next = next[name]
	}
	st.previous, st.spec, st.stage = st.spec, sp, 0
	st.updated = s.now()
	s.setStack(st, "UPDATE_IN_PROGRESS", "User Initiated")
	return st.id, nil
}

func sameSet(a, b []string) bool {
	return len(a) == len(b) && !slices.ContainsFunc(a, func(x string) bool { return !slices.Contains(b, x) })
}

func (s *Server) deleteStack(p url.Values) *APIError {
	st := s.findStack(p.Get("StackName"), false)
	if st == nil || st.status == "DELETE_IN_PROGRESS" || st.status == "DELETE_COMPLETE" {
		// Deleting a stack that does not exist succeeds.
		return nil
	}
	if strings.HasSuffix(st.status, "_IN_PROGRESS") {
		return validation("Stack [%s] cannot be deleted while in status %s", st.name, st.status)
	}
	s.setStack(st, "DELETE_IN_PROGRESS", "User Initiated")
	return nil
}

func (s *Server) describeStacks(p url.Values, result *cfnResult) *APIError {
	if !s.opts.ManualSteps {
		s.step()
	}
	var hits []*stack
	if name := p.Get("StackName"); name != "" {
		st := s.findStack(name, false)
		if st == nil {
			return validation("Stack with id %s does not exist", name)
		}
		hits = []*stack{st}
	} else {
		for _, st := range s.cfn.stacks {
			if st.status != "DELETE_COMPLETE" {
				hits = append(hits, st)
			}
		}
	}
	from, to, next, e := s.page(p, "DescribeStacks", len(hits), 1, 100)
	if e != nil {
		return e
	}
	result.NextToken = next
	for _, st := range hits[from:to] {
		x := xmlStack{StackID: st.id, StackName: st.name, StackStatus: st.status, StackStatusReason: st.reason, CreationTime: cfnTime(st.created),
			LastUpdatedTime: cfnTime(st.updated), DeletionTime: cfnTime(st.deleted), DisableRollback: st.onFailure == "DO_NOTHING"}
		for _, k := range slices.Sorted(maps.Keys(st.spec.params)) {
			v := st.spec.params[k]
			if noEcho := st.spec.t.Parameters[k].NoEcho; noEcho == true || noEcho == "true" {
				v = "****"
			}
			x.Parameters = append(x.Parameters, xmlParameter{k, v})
		}
		for _, k := range slices.Sorted(maps.Keys(st.spec.tags)) {
			x.Tags = append(x.Tags, xmlCFNTag{k, st.spec.tags[k]})
		}
		result.Stacks = append(result.Stacks, x)
	}
	return nil
}

func (s *Server) describeStackEvents(p url.Values, result *cfnResult) *APIError {
	name := p.Get("StackName")
	st := s.findStack(name, true)
	if st == nil {
		return validation("Stack [%s] does not exist", name)
	}
	from, to, next, e := s.page(p, "DescribeStackEvents", len(st.events), 1, 100)
	if e != nil {
		return e
	}
	result.NextToken = next
	newest := slices.Clone(st.events)
	slices.Reverse(newest)
	for _, ev := range newest[from:to] {
		result.Events = append(result.Events, xmlEvent{EventID: ev.ID, xmlStackResource: xmlStackResource{StackID: st.id, StackName: st.name, LogicalResourceID: ev.LogicalID,
			PhysicalResourceID: ev.PhysicalID, ResourceType: ev.ResourceType, Timestamp: cfnTime(ev.Time), ResourceStatus: ev.Status, ResourceStatusReason: ev.Reason}})
	}
	return nil
}

func (s *Server) describeStackResources(p url.Values, result *cfnResult) *APIError {
	name := p.Get("StackName")
	if name == "" {
		return validation("this test server finds stack resources by StackName only")
	}
	st := s.findStack(name, true)
	if st == nil {
		return validation("Stack with id %s does not exist", name)
	}
	for _, n := range slices.Sorted(maps.Keys(st.resources)) {
		r := st.resources[n]
		if l := p.Get("LogicalResourceId"); l != "" && l != n {
			continue
		}
		result.Resources = append(result.Resources, xmlStackResource{StackID: st.id, StackName: st.name, LogicalResourceID: n,
			PhysicalResourceID: r.physicalID, ResourceType: r.typ, Timestamp: cfnTime(r.time), ResourceStatus: r.status, ResourceStatusReason: r.reason})
	}
	return nil
}

// StackEvents returns a stack's events, the newest first, as
// DescribeStackEvents answers them.
func (s *Server) StackEvents(nameOrID string) []StackEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.findStack(nameOrID, true)
	if st == nil {
		return nil
	}
	out := slices.Clone(st.events)
	slices.Reverse(out)
	return out
}

func cfnTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

const cfnXmlns = "http://cloudformation.amazonaws.com/doc/" + CloudFormationAPIVersion + "/"

type cfnResponse struct {
	XMLName  xml.Name
	Xmlns    string     `xml:"xmlns,attr"`
	Result   *cfnResult `xml:",omitempty"`
	Metadata struct {
		RequestID string `xml:"RequestId"`
	} `xml:"ResponseMetadata"`
}

type cfnResult struct {
	XMLName   xml.Name
	StackID   string             `xml:"StackId,omitempty"`
	Stacks    []xmlStack         `xml:"Stacks>member"`
	Events    []xmlEvent         `xml:"StackEvents>member"`
	Resources []xmlStackResource `xml:"StackResources>member"`
	NextToken string             `xml:"NextToken,omitempty"`
}

type xmlParameter struct {
	ParameterKey   string `xml:"ParameterKey"`
	ParameterValue string `xml:"ParameterValue"`
}

type xmlCFNTag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type xmlStack struct {
	StackID           string         `xml:"StackId"`
	StackName         string         `xml:"StackName"`
	Parameters        []xmlParameter `xml:"Parameters>member"`
	CreationTime      string         `xml:"CreationTime"`
	LastUpdatedTime   string         `xml:"LastUpdatedTime,omitempty"`
	DeletionTime      string         `xml:"DeletionTime,omitempty"`
	StackStatus       string         `xml:"StackStatus"`
	StackStatusReason string         `xml:"StackStatusReason,omitempty"`
	DisableRollback   bool           `xml:"DisableRollback"`
	Tags              []xmlCFNTag    `xml:"Tags>member"`
}

// xmlEvent is an event: a resource's status at its time.
type xmlEvent struct {
	EventID string `xml:"EventId"`
	xmlStackResource
}

type xmlStackResource struct {
	StackID              string `xml:"StackId"`
	StackName            string `xml:"StackName"`
	LogicalResourceID    string `xml:"LogicalResourceId"`
	PhysicalResourceID   string `xml:"PhysicalResourceId,omitempty"`
	ResourceType         string `xml:"ResourceType"`
	Timestamp            string `xml:"Timestamp"`
	ResourceStatus       string `xml:"ResourceStatus"`
	ResourceStatusReason string `xml:"ResourceStatusReason,omitempty"`
}
