#include "WeaponComponent.h"

UWeaponComponent::UWeaponComponent()
{
	PrimaryComponentTick.bCanEverTick = true;
}

void UWeaponComponent::TickComponent(float DeltaTime, ELevelTick TickType, FActorComponentTickFunction* ThisTickFunction)
{
	Super::TickComponent(DeltaTime, TickType, ThisTickFunction);
}

void UWeaponComponent::FireOnce(const FVector& Direction)
{
	if (AmmoInMagazine <= 0)
	{
		Reload();
		return;
	}
	AmmoInMagazine -= 1;
	UE_LOG(LogTemp, Verbose, TEXT("Fired towards %s"), *Direction.ToString());
}

void UWeaponComponent::Reload()
{
	AmmoInMagazine = MagazineSize;
}
