#pragma once

#include "CoreMinimal.h"
#include "Components/ActorComponent.h"
#include "WeaponComponent.generated.h"

/** Ammunition, fire rate and reloading of a hand-held weapon. */
UCLASS(ClassGroup = (Combat), meta = (BlueprintSpawnableComponent))
class SHOOTERDEMO_API UWeaponComponent : public UActorComponent
{
	GENERATED_BODY()

public:
	UWeaponComponent();

	virtual void TickComponent(float DeltaTime, ELevelTick TickType, FActorComponentTickFunction* ThisTickFunction) override;

	UFUNCTION(BlueprintCallable, Category = "Weapon")
	void FireOnce(const FVector& Direction);

	UFUNCTION(BlueprintCallable, Category = "Weapon")
	void Reload();

protected:
	/** Shots per second. */
	UPROPERTY(EditAnywhere, Category = "Weapon")
	float FireRate = 8.f;

	UPROPERTY(EditAnywhere, Category = "Weapon")
	int32 MagazineSize = 30;

	UPROPERTY(VisibleInstanceOnly, Category = "Weapon")
	int32 AmmoInMagazine = 30;
};
