// Package o2 is the Go client of the Nephoran O2 IMS: the O-RAN
// O2ims_InfrastructureInventory and O2ims_InfrastructureMonitoring APIs and
// the Nephoran extensions served under /o2ims/v1.
//
// A [Client] is created once from a [Config] and is safe for concurrent
// use:
//
//	c, err := o2.NewClient(&o2.Config{Endpoint: "http://127.0.0.1:8080"})
//	if err != nil {
//		return err
//	}
//	info, err := c.CloudInfo(ctx)
//
// Every collection of the API has a service with the same three methods:
// List fetches one page, Get fetches one object by identifier, and All
// iterates over every object, following the Link rel="next" header of each
// page:
//
//	opts := o2.ListOptions{Filter: o2.Eq("tags", "host"), Limit: 50}
//	for r, err := range c.Resources().All(ctx, opts) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(r.ResourceID, r.Description)
//	}
//
// The inventory services are [Client.ResourceTypes], [Client.ResourcePools],
// [Client.Resources], [Client.DeploymentManagers] and
// [Client.AlarmDictionaries]; the monitoring services are [Client.Alarms],
// [Client.ProbableCauses] and [Client.AlarmServiceConfiguration].
//
// Subscriptions to inventory changes ([Client.Subscriptions]) and to alarm
// events ([Client.AlarmSubscriptions]) are created and deleted as well;
// the IMS POSTs an [InventoryChangeNotification] or an
// [AlarmEventNotification] to their callback:
//
//	sub, err := c.Subscriptions().Create(ctx, o2.SubscriptionRequest{
//		Callback: "https://smo.example.net/o2/inventory",
//		Filter:   o2.Eq("objectType", "ResourcePool"),
//	})
//
// Alarms are acknowledged with [AlarmService.Acknowledge] and, when their
// definition clears manually, cleared with [AlarmService.Clear]; doing
// either twice is a 409 answer ([IsConflict]).
//
// The CNF lifecycle of the Nephoran extensions has its own services:
// [Client.Providers] registers Kubernetes clusters, whose nodes become
// resources and which become deployment managers; [Client.CNFPackages]
// uploads Helm charts and kpt packages; [Client.CNFInstances] creates
// instances and instantiates, scales and terminates them; and
// [Client.LcmOpOccs] tracks the asynchronous operations those start:
//
//	op, err := c.CNFInstances().Instantiate(ctx, inst.CNFInstanceID, o2.InstantiateRequest{
//		FlavourID:           "small",
//		DeploymentManagerID: dm.DeploymentManagerID,
//		ResourcePoolID:      pool.ResourcePoolID,
//	})
//	if err != nil {
//		return err
//	}
//	if _, err := c.LcmOpOccs().Wait(ctx, op.ID); err != nil {
//		return err // an *OperationError holds the problem detail of a FAILED operation
//	}
//
// One operation runs at a time per instance: starting another meanwhile
// is a 409 answer ([IsConflict]); an impossible request, such as scaling
// beyond an aspect's maximum level, a 422 answer ([IsUnprocessable]).
//
// Filters are built with [Eq], [Neq], [Gt], [Gte], [Lt], [Lte], [In],
// [Nin], [Cont], [Ncont] and [And], which quote values as the ETSI GS
// NFV-SOL 013 query language requires.
//
// Every non-2xx answer is returned as a *[ProblemError], the decoded
// RFC 7807 problem details; [IsNotFound] and its siblings test for common
// statuses. Idempotent requests (GET, HEAD, PUT, DELETE) are retried with
// exponential backoff and jitter on connection errors and on 429 and 503
// answers, honouring Retry-After. POST and PATCH requests (creating a
// subscription, acknowledging or clearing an alarm, patching the alarm
// service configuration, uploading a package, starting a lifecycle
// operation) are never retried, as their first attempt may
// have been applied.
//
// Authentication is chosen by [AuthConfig]: a static bearer token, or OAuth
// 2.0 client credentials whose access token is cached and refreshed before
// it expires.
package o2
