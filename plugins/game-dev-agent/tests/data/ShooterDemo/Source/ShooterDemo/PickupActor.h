#pragma once

#include "CoreMinimal.h"
#include "GameFramework/Actor.h"
#include "PickupActor.generated.h"

class USphereComponent;

/** A health pack lying in the arena; heals whoever walks over it. */
UCLASS()
class SHOOTERDEMO_API APickupActor : public AActor
{
	GENERATED_BODY()

public:
	APickupActor();

protected:
	virtual void BeginPlay() override;

	UFUNCTION()
	void OnOverlap(UPrimitiveComponent* OverlappedComponent, AActor* OtherActor, UPrimitiveComponent* OtherComp, int32 OtherBodyIndex, bool bFromSweep, const FHitResult& SweepResult);

	UPROPERTY(VisibleAnywhere, Category = "Pickup")
	USphereComponent* Trigger;

	UPROPERTY(EditAnywhere, Category = "Pickup")
	float HealAmount = 25.f;
};
