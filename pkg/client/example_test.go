package o2_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	o2 "github.com/nephoran/o2ims/pkg/client"
)

func ExampleEq() {
	f := o2.And(
		o2.Eq("name", "my pool"),
		o2.In("extensions/provider", "aws", "azure"),
		o2.Gt("extensions/sizeBytes", 1000000000),
		o2.Eq("description", "it's a/b"),
	)
	fmt.Println(f)
	// Output: (eq,name,'my pool');(in,extensions/provider,aws,azure);(gt,extensions/sizeBytes,1000000000);(eq,description,'it''s a/b')
}

func ExampleResourceService_All() {
	c, err := o2.NewClient(&o2.Config{
		Endpoint: "https://ims.example.net",
		Authentication: &o2.AuthConfig{Type: o2.AuthOAuth2, OAuth2: &o2.OAuth2Config{
			TokenURL:     "https://sso.example.net/token",
			ClientID:     "smo",
			ClientSecret: "s3cret",
			Scopes:       []string{o2.ScopeRead},
		}},
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	opts := o2.ListOptions{Filter: o2.Eq("tags", "disk"), Fields: []string{"extensions/sizeBytes"}}
	for r, err := range c.Resources().All(ctx, opts) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(r.ResourceID, r.Extensions["sizeBytes"])
	}
}

func ExampleIsNotFound() {
	c, err := o2.NewClient(&o2.Config{Endpoint: "http://127.0.0.1:8080"})
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.ResourcePools().Get(context.Background(), "00000000-0000-0000-0000-000000000000")
	var pe *o2.ProblemError
	switch {
	case o2.IsNotFound(err):
		fmt.Println("no such pool")
	case errors.As(err, &pe):
		fmt.Println("the IMS refused:", pe.Detail)
	case err != nil:
		log.Fatal(err)
	}
}

func ExampleSubscriptionService_Create() {
	c, err := o2.NewClient(&o2.Config{Endpoint: "http://127.0.0.1:8080"})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	sub, err := c.Subscriptions().Create(ctx, o2.SubscriptionRequest{
		Callback:               "https://smo.example.net/o2/inventory",
		ConsumerSubscriptionID: "smo-pools",
		Filter: o2.And(
			o2.Eq("objectType", "ResourcePool"),
			o2.Neq("notificationEventType", o2.InventoryEventModify),
		),
	})
	switch {
	case o2.IsConflict(err):
		fmt.Println("already subscribed")
	case err != nil:
		log.Fatal(err)
	default:
		fmt.Println("subscribed as", sub.SubscriptionID)
	}
}

func ExampleAlarmService_Acknowledge() {
	c, err := o2.NewClient(&o2.Config{Endpoint: "http://127.0.0.1:8080"})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	opts := o2.ListOptions{Filter: o2.And(
		o2.Lte("perceivedSeverity", o2.SeverityMajor),
		o2.Eq("alarmAcknowledged", false),
	)}
	for a, err := range c.Alarms().All(ctx, opts) {
		if err != nil {
			log.Fatal(err)
		}
		// Another operator may have been quicker: 409.
		if err := c.Alarms().Acknowledge(ctx, a.AlarmEventRecordID); err != nil && !o2.IsConflict(err) {
			log.Fatal(err)
		}
		fmt.Println("acknowledged", a.PerceivedSeverity, a.AlarmEventRecordID)
	}
}

func ExampleCNFInstanceService_Instantiate() {
	c, err := o2.NewClient(&o2.Config{Endpoint: "http://127.0.0.1:8080"})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	dms, err := c.DeploymentManagers().List(ctx, o2.ListOptions{Filter: o2.Eq("name", "edge-1")})
	if err != nil || len(dms.Items) == 0 {
		log.Fatal("no deployment manager edge-1: ", err)
	}
	inst, err := c.CNFInstances().Create(ctx, o2.CreateCNFInstanceRequest{VnfdID: "vnfd-app", VnfInstanceName: "app-1"})
	if err != nil {
		log.Fatal(err)
	}
	op, err := c.CNFInstances().Instantiate(ctx, inst.CNFInstanceID, o2.InstantiateRequest{
		FlavourID:           "small",
		DeploymentManagerID: dms.Items[0].DeploymentManagerID,
	})
	if err != nil {
		log.Fatal(err) // IsConflict: another operation runs; IsUnprocessable: unknown flavour or pool
	}
	var failed *o2.OperationError
	switch _, err := c.LcmOpOccs().Wait(ctx, op.ID); {
	case errors.As(err, &failed):
		fmt.Println("instantiation failed:", failed.Op.Error.Detail)
	case err != nil:
		log.Fatal(err)
	default:
		fmt.Println("instantiated", inst.CNFInstanceID)
	}
}
